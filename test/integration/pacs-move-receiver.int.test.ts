/**
 * The C-MOVE receiver (our C-STORE SCP) listens where it is told, loopback unless configured (issue 11,
 * F13): it checks only AE titles, which any host that can reach the port can claim, so it is not open on
 * every interface by default. Real TCP connections to the real receiver, on loopback and on this machine's
 * other addresses.
 */
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { startMoveReceiver, type MoveReceiver } from '../../shared/pacs/dimse-adapter.js';
import { parseDimseUrl } from '../../shared/pacs/dimse-source.js';
import { freePort } from '../helpers/orthanc.js';

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

const external = Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address);

describe('the C-MOVE receiver', () => {
  let receiver: MoveReceiver | undefined;
  afterEach(() => {
    receiver?.close();
    receiver = undefined;
  });

  /** Starts the receiver as ILDFLOW_PACS=`url` configures it, on a free port; returns where it bound and the port. */
  async function receiverFor(url: string): Promise<{ listenHost: string; port: number }> {
    const { listenHost } = parseDimseUrl(url);
    const port = await freePort();
    receiver = startMoveReceiver({ port, host: listenHost }, 'ILDFLOW', 'ORTHANC', 64 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 100));
    return { listenHost, port };
  }

  it('listens on loopback only by default (listen= in ILDFLOW_PACS)', async () => {
    const { listenHost, port } = await receiverFor('dicom://ORTHANC@127.0.0.1:4242?retrieve=c-move&port=11112');
    expect(listenHost).toBe('127.0.0.1');
    expect(await accepts('127.0.0.1', port)).toBe(true);
    if (!external.length) console.warn('no non-loopback IPv4 address here: only loopback was checked');
    for (const address of external) expect(await accepts(address, port), address).toBe(false);
  });

  it('listens on the configured interface when told to (listen=0.0.0.0 for a PACS on another host)', async () => {
    const { listenHost, port } = await receiverFor('dicom://ORTHANC@10.0.0.5:4242?retrieve=c-move&port=11112&listen=0.0.0.0');
    expect(listenHost).toBe('0.0.0.0');
    for (const address of ['127.0.0.1', ...external]) expect(await accepts(address, port), address).toBe(true);
  });

  it('refuses a listen= that is not an IP address', () => {
    expect(() => parseDimseUrl('dicom://ORTHANC@h:1?retrieve=c-move&port=11112&listen=every')).toThrow(/listen= must be an IP address/);
  });
});
