/**
 * The HL7 v2 order listener on ILDFLOW_HL7_LISTEN (docs/ehr.md): MLLP over TCP (HL7 v2.5.1 Appendix C,
 * <VT> message <FS><CR>). Any number of connections (up to MAX_CONNECTIONS); on each, frames are answered
 * in the order they arrive, one at a time, so a pipelining sender gets its ACKs in order. A frame is acted
 * on only once it is complete: a client that disconnects mid-message leaves nothing behind. Bytes outside
 * a frame are dropped (as receivers do); a frame longer than ILDFLOW_HL7_MAX_MESSAGE_BYTES closes the
 * connection; an idle connection is closed after IDLE_MS. Nothing a peer sends can end the process.
 */
import net from 'node:net';
import { once } from 'node:events';
import { MllpDecoder, frameMllp } from '../../shared/billing/hl7/mllp.js';
import { receiveOrder, type ReceiveOrderDeps } from './receive-order.js';

export const MAX_CONNECTIONS = 64;
/** Interface engines keep their connection open between messages; one silent for this long is gone. */
export const IDLE_MS = 10 * 60_000;

export type OrderListener = Readonly<{ url: string; close(): Promise<void> }>;

export async function startOrderListener(deps: ReceiveOrderDeps, opts: Readonly<{ url: string; maxMessageBytes: number; idleMs?: number }>): Promise<OrderListener> {
  const m = /^mllp:\/\/([^:/]+):(\d+)$/.exec(opts.url);
  if (!m) throw new Error(`not an mllp://host:port URL: ${opts.url}`);
  const log = deps.logger.child({ component: 'hl7-orders' });
  const sockets = new Set<net.Socket>();
  const inFlight = new Set<Promise<void>>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(opts.idleMs ?? IDLE_MS, () => socket.destroy());
    const decoder = new MllpDecoder(opts.maxMessageBytes);
    let chain: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = decoder.pushFrames(chunk);
      } catch {
        log.warn({ remote: socket.remoteAddress, maxBytes: opts.maxMessageBytes }, 'hl7 frame too large; connection closed');
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        // The write is skipped when the peer has gone meanwhile. receiveOrder answers every error with an
        // ACK; anything else is logged and the connection closed, never left to end the process.
        const step = chain
          .then(async () => {
            const ack = await receiveOrder(frame, deps);
            if (!socket.destroyed) socket.write(frameMllp(ack));
          })
          .catch((err: unknown) => {
            log.error({ err: err instanceof Error ? err.message : String(err) }, 'hl7 order connection failed');
            socket.destroy();
          });
        chain = step;
        inFlight.add(step);
        void step.finally(() => inFlight.delete(step));
      }
    });
    socket.on('error', () => socket.destroy()); // a reset peer: nothing to answer
    socket.on('close', () => sockets.delete(socket));
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.on('error', (err) => log.error({ err: err.message }, 'hl7 order listener error'));
  server.listen(Number(m[2]), m[1]);
  await once(server, 'listening');
  const addr = server.address() as net.AddressInfo;
  const url = `mllp://${m[1]}:${addr.port}`;
  log.info({ url }, 'hl7 order listener listening');

  return {
    url,
    async close() {
      server.close();
      // Orders being stored finish and are acknowledged; then every connection goes.
      await Promise.allSettled([...inFlight]);
      for (const s of sockets) s.destroy();
    },
  };
}
