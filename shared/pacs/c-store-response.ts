/**
 * A C-STORE response (PS3.7 §9.3.1.2) as the one P-DATA-TF PDU that carries it (PS3.8 §9.3.5), encoded by
 * hand. The receivers answer one per instance while the PACS waits for it before sending the next
 * (Orthanc sends C-STORE sub-operations one at a time), and dcmjs-dimse built each through dcmjs — a data
 * set, a naturalized copy, a write buffer — about 0.3 ms an instance on the critical path, and its log
 * line even at level `warn`. The bytes are the ones the library writes (c-store-response.test.ts).
 */

export type CStoreAnswer = Readonly<{
  presentationContextId: number;
  /** The request's Message ID (0000,0110), answered in Message ID Being Responded To (0000,0120). */
  messageId: number;
  sopClassUid: string;
  sopInstanceUid: string;
  /** PS3.4 Annex B.2.3: 0x0000 success, 0xA700 out of resources, 0xC000 cannot understand, … */
  status: number;
}>;

/** One command element in Implicit VR Little Endian (PS3.7 §6.3.1: command sets are always Implicit VR LE). */
function element(tagElement: number, value: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0x0000, 0);
  head.writeUInt16LE(tagElement, 2);
  head.writeUInt32LE(value.length, 4);
  return Buffer.concat([head, value]);
}

const us = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
/** UI values are padded with NUL to an even length (PS3.5 §6.2). */
const ui = (uid: string) => Buffer.from(uid.length % 2 ? `${uid}\0` : uid, 'latin1');

/** The command set of a C-STORE-RSP: group length, then the elements in tag order (PS3.7 §9.3.1.2 table). */
export function cStoreResponseCommand(a: CStoreAnswer): Buffer {
  const body = Buffer.concat([
    element(0x0002, ui(a.sopClassUid)), // Affected SOP Class UID
    element(0x0100, us(0x8001)), // Command Field: C-STORE-RSP
    element(0x0120, us(a.messageId)), // Message ID Being Responded To
    element(0x0800, us(0x0101)), // Command Data Set Type: no data set follows
    element(0x0900, us(a.status)), // Status
    element(0x1000, ui(a.sopInstanceUid)), // Affected SOP Instance UID
  ]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  return Buffer.concat([element(0x0000, length), body]);
}

/** The P-DATA-TF PDU: one PDV, a command's last (and only) fragment (PS3.8 Annex E.2: control header 0x03). */
export function cStoreResponsePdu(a: CStoreAnswer): Buffer {
  const command = cStoreResponseCommand(a);
  const head = Buffer.alloc(12);
  head[0] = 0x04; // P-DATA-TF
  head.writeUInt32BE(6 + command.length, 2); // the PDV item: its 4-byte length, the context id, the header, the value
  head.writeUInt32BE(2 + command.length, 6);
  head[10] = a.presentationContextId;
  head[11] = 0x03;
  return Buffer.concat([head, command]);
}
