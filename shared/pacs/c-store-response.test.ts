import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type * as Dimse from 'dcmjs-dimse';
import { cStoreResponseCommand, cStoreResponsePdu } from './c-store-response.js';
import { endsCommand, PduFramer } from './pdu-framer.js';

const dimse = createRequire(import.meta.url)('dcmjs-dimse') as typeof Dimse;

describe('C-STORE response encoding', () => {
  it.each([
    ['success, odd-length UIDs', '1.2.840.10008.5.1.4.1.1.2', '2.25.12345', 7, 0x0000],
    ['refusal, even-length UIDs', '1.2.840.10008.5.1.4.1.1.2.1', '2.25.123456', 65535, 0xa700],
  ])('writes the command set byte for byte as dcmjs-dimse does (%s)', (_name, sopClassUid, sopInstanceUid, messageId, status) => {
    const req = new dimse.requests.CStoreRequest(new dimse.Dataset({ SOPClassUID: sopClassUid, SOPInstanceUID: sopInstanceUid }));
    req.setMessageId(messageId);
    const res = dimse.responses.CStoreResponse.fromRequest(req);
    res.setStatus(status);
    const library = Buffer.from(res.getCommandDataset().getDenaturalizedCommandDataset());
    expect(cStoreResponseCommand({ presentationContextId: 1, messageId, sopClassUid, sopInstanceUid, status }).toString('hex')).toBe(library.toString('hex'));
  });

  it('frames it as one whole P-DATA-TF PDU ending a command, on the given presentation context', () => {
    const pdu = cStoreResponsePdu({ presentationContextId: 9, messageId: 3, sopClassUid: '1.2.3', sopInstanceUid: '4.5', status: 0 });
    expect(new PduFramer(1 << 16).push(pdu)).toEqual([pdu]);
    expect(endsCommand(pdu)).toBe(true);
    expect(pdu[10]).toBe(9);
  });
});
