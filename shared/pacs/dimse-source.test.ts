import { describe, expect, it } from 'vitest';
import { ConfigInvalid } from '../errors.js';
import { parseDimseUrl } from './dimse-source.js';

describe('parseDimseUrl', () => {
  it('reads the called AE, host, port, retrieve mode, calling AE and SCP port', () => {
    expect(parseDimseUrl('dicom://ORTHANC@pacs.local:4242?retrieve=c-move&calling=ILDFLOW1&port=11112')).toEqual({
      peer: { host: 'pacs.local', port: 4242, calledAet: 'ORTHANC', callingAet: 'ILDFLOW1' },
      retrieve: 'c-move',
      scpPort: 11112,
      listenHost: '127.0.0.1',
    });
  });

  it('defaults to C-GET, calling AE ILDFLOW and port 104', () => {
    expect(parseDimseUrl('dicom://PACS@10.0.0.5')).toMatchObject({ peer: { port: 104, callingAet: 'ILDFLOW' }, retrieve: 'c-get' });
  });

  it('lists every problem at once', () => {
    try {
      parseDimseUrl('dicom://@host:4242?retrieve=c-fetch&calling=WAY-TOO-LONG-AE-TITLE');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigInvalid);
      expect((err as ConfigInvalid).problems).toHaveLength(3);
    }
  });

  it('requires the SCP port for C-MOVE', () => {
    expect(() => parseDimseUrl('dicom://PACS@h:1?retrieve=c-move')).toThrow(/needs port=N/);
  });
});
