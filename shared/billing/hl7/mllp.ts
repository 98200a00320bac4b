/**
 * MLLP framing (HL7 v2 Minimal Lower Layer Protocol, HL7 v2.5.1 Appendix C): each message travels as
 * <VT 0x0B> message <FS 0x1C><CR 0x0D>. Pure: framing, an incremental decoder for a byte stream, and
 * reading an ACK. The socket work lives in workers/billing/mllp-client.ts (sending) and
 * services/ehr/order-listener.ts (receiving).
 */
import { unescapeHl7 } from './escape.js';

export const START_BLOCK = 0x0b;
export const END_BLOCK = 0x1c;
export const CARRIAGE_RETURN = 0x0d;

/** One message in an MLLP frame: a string as UTF-8 (matching MSH-18 `UNICODE UTF-8`), bytes as they are. */
export function frameMllp(message: string | Buffer): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  return Buffer.concat([Buffer.from([START_BLOCK]), body, Buffer.from([END_BLOCK, CARRIAGE_RETURN])]);
}

/**
 * Incremental MLLP decoder: feed it chunks as they arrive; it returns the complete messages. Bytes
 * before a start block are dropped (line noise, or the tail of an abandoned frame), as receivers do.
 */
export class MllpDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  /** The complete messages in UTF-8 (what ildflow's peers answer in). */
  push(chunk: Buffer): string[] {
    return this.pushFrames(chunk).map((f) => f.toString('utf8'));
  }

  /** The complete messages as bytes: a receiver decodes them in the character set their MSH-18 names. */
  pushFrames(chunk: Buffer): Buffer[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const messages: Buffer[] = [];
    for (;;) {
      const start = this.buffer.indexOf(START_BLOCK);
      if (start < 0) {
        this.buffer = Buffer.alloc(0);
        break;
      }
      let end = -1;
      for (let i = start + 1; i < this.buffer.length - 1; i++) {
        if (this.buffer[i] === END_BLOCK && this.buffer[i + 1] === CARRIAGE_RETURN) {
          end = i;
          break;
        }
      }
      if (end < 0) {
        this.buffer = this.buffer.subarray(start);
        if (this.buffer.length > this.maxBytes) throw new Error(`MLLP frame larger than ${this.maxBytes} bytes`);
        break;
      }
      messages.push(Buffer.from(this.buffer.subarray(start + 1, end)));
      this.buffer = this.buffer.subarray(end + 2);
    }
    return messages;
  }
}

/** MSA-1, HL7 table 0008: AA/AE/AR original mode; CA/CE/CR enhanced mode (commit level). */
export type AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';

export type Ack = Readonly<{ code: AckCode; controlId: string; text: string }>;

/** Reads MSA-1, MSA-2 and a text (MSA-3, else ERR-8, else ERR-1) from an ACK. Throws when it is not one. */
export function parseAck(message: string): Ack {
  const segments = message.split(/\r\n|\r|\n/).filter((s) => s.length > 0);
  const msh = segments[0];
  if (!msh?.startsWith('MSH') || msh.length < 8) throw new Error('not an HL7 message: no MSH segment');
  const fieldSep = msh[3]!;
  const msa = segments.find((s) => s.startsWith(`MSA${fieldSep}`));
  if (!msa) throw new Error('the acknowledgment has no MSA segment');
  const f = msa.split(fieldSep);
  const code = f[1]?.trim() ?? '';
  if (!['AA', 'AE', 'AR', 'CA', 'CE', 'CR'].includes(code)) throw new Error(`MSA-1 "${code}" is not an acknowledgment code`);
  const err = segments.find((s) => s.startsWith(`ERR${fieldSep}`))?.split(fieldSep);
  const text = f[3] || err?.[8] || err?.[1] || '';
  return { code: code as AckCode, controlId: f[2] ?? '', text: unescapeHl7(text.replaceAll('^', ' ').trim()) };
}

/** What the sender does with an ACK: AA/CA done; AE/CE retry (application error); AR/CR reject (dead-letter). */
export function ackOutcome(code: AckCode): 'done' | 'retry' | 'reject' {
  return code === 'AA' || code === 'CA' ? 'done' : code === 'AE' || code === 'CE' ? 'retry' : 'reject';
}

/** An ACK for a received message (used by test peers; ildflow itself only sends DFT). */
export function buildAck(received: string, code: AckCode, text = '', now = new Date()): string {
  const msh = received.split('\r')[0] ?? '';
  const f = msh.split('|');
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // Swap sender and receiver (MSH-3/4 ↔ MSH-5/6); MSA-2 echoes MSH-10.
  return [`MSH|^~\\&|${f[4] ?? ''}|${f[5] ?? ''}|${f[2] ?? ''}|${f[3] ?? ''}|${ts}||ACK^P03^ACK|ACK${ts}|P|2.5.1`, `MSA|${code}|${f[9] ?? ''}${text ? `|${text}` : ''}`].join('\r') + '\r';
}
