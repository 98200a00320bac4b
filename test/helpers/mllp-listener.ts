/**
 * A real MLLP peer for tests (docs/peers.md "HL7 v2 billing peer"): a Node `net` server that de-frames
 * 0x0B … 0x1C 0x0D and answers each message as scripted — AA, AE, AR (an ACK with that MSA-1), `drop`
 * (close the connection without answering) or `silent` (keep the connection open, never answer).
 * Once the script is used up it answers `then` (default AA).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { buildAck, frameMllp, MllpDecoder } from '../../shared/billing/hl7/mllp.js';

export type MllpAction = 'AA' | 'AE' | 'AR' | 'drop' | 'silent';

export type Received = Readonly<{ message: string; action: MllpAction; controlId: string }>;

export type MllpListener = Readonly<{
  port: number;
  url: string;
  received: Received[];
  /** Messages answered AA: what the billing system accepted. */
  accepted(): string[];
  script(actions: MllpAction[], then?: MllpAction): void;
  /** Resolves when `count` messages have been received in all (bounded). */
  waitForReceived(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}>;

export async function startMllpListener(initial: MllpAction[] = [], initialThen: MllpAction = 'AA'): Promise<MllpListener> {
  let queue = [...initial];
  let then = initialThen;
  const received: Received[] = [];
  const sockets = new Set<net.Socket>();
  const waiters: { count: number; resolve: () => void }[] = [];

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const decoder = new MllpDecoder();
    socket.on('data', (chunk) => {
      for (const message of decoder.push(chunk)) {
        const action = queue.shift() ?? then;
        const controlId = message.split('\r')[0]?.split('|')[9] ?? '';
        received.push({ message, action, controlId });
        for (const w of waiters.filter((x) => received.length >= x.count)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
        if (action === 'drop') socket.destroy();
        else if (action !== 'silent') socket.write(frameMllp(buildAck(message, action, action === 'AA' ? '' : `scripted ${action}`)));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    url: `mllp://127.0.0.1:${port}`,
    received,
    accepted: () => received.filter((r) => r.action === 'AA').map((r) => r.message),
    script(actions, next = 'AA') {
      queue = [...actions];
      then = next;
    },
    waitForReceived(count, timeoutMs = 10_000) {
      if (received.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`MLLP listener: ${received.length} of ${count} messages within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
