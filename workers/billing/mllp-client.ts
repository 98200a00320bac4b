/**
 * Sends one HL7 message over MLLP and waits for its acknowledgment (HL7 v2.5.1 Appendix C). One TCP
 * connection per message: a charge is a rare event (one per signed case), and a fresh connection
 * never inherits a half-read frame from a previous failure. Every wait is bounded.
 */
import net from 'node:net';
import { frameMllp, MllpDecoder } from '../../shared/billing/hl7/mllp.js';

/** The connection failed, dropped or stayed silent: nothing is known about the message, so send it again. */
export class MllpTransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MllpTransportError';
  }
}

export type MllpTarget = Readonly<{ host: string; port: number }>;

export function parseMllpUrl(url: string): MllpTarget {
  const m = /^mllp:\/\/([^:/]+):(\d+)$/.exec(url);
  if (!m) throw new Error(`not an mllp://host:port URL: ${url}`);
  return { host: m[1]!, port: Number(m[2]) };
}

export type SendOptions = Readonly<{ connectTimeoutMs: number; ackTimeoutMs: number; signal?: AbortSignal }>;

/** Resolves with the first complete message the peer answers (the ACK); rejects with MllpTransportError. */
export function sendMllp(target: MllpTarget, message: string, opts: SendOptions): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = net.createConnection({ host: target.host, port: target.port });
    const decoder = new MllpDecoder();
    let settled = false;
    let timer = setTimeout(() => fail(`no connection to ${target.host}:${target.port} within ${opts.connectTimeoutMs} ms`), opts.connectTimeoutMs);
    const onAbort = () => fail('delivery stopped');
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    function finish(): void {
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
    }
    function fail(reason: string): void {
      if (settled) return;
      finish();
      reject(new MllpTransportError(reason));
    }

    socket.setNoDelay(true);
    socket.once('connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(`no acknowledgment within ${opts.ackTimeoutMs} ms`), opts.ackTimeoutMs);
      socket.write(frameMllp(message));
    });
    socket.on('data', (chunk: Buffer) => {
      let messages: string[];
      try {
        messages = decoder.push(chunk);
      } catch (err) {
        fail((err as Error).message);
        return;
      }
      const ack = messages[0];
      if (ack !== undefined && !settled) {
        finish();
        resolve(ack);
      }
    });
    socket.once('error', (err) => fail(`connection error: ${err.message}`));
    socket.once('close', () => fail('the peer closed the connection before acknowledging'));
  });
}
