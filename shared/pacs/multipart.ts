/**
 * A streaming `multipart/related` splitter (RFC 2046 §5.1.1, RFC 2387) for WADO-RS responses (PS3.18
 * §8.6.1.2: every part is one Part 10 instance). It is fed the response body chunk by chunk and returns
 * events — a part's headers, slices of its body, its end — so the caller writes each instance straight to
 * disk and memory stays at about one network chunk, however large the series.
 *
 * Invariants: a delimiter split across chunks is found (the last `delimiter.length - 1` bytes of a chunk
 * are held back until the next one arrives); a body that ends before the close delimiter
 * (`--boundary--`) is a truncated transfer and `finish()` throws — the caller discards the spool.
 */

export type MultipartEvent =
  | Readonly<{ type: 'part'; headers: Readonly<Record<string, string>> }>
  | Readonly<{ type: 'data'; chunk: Buffer }>
  | Readonly<{ type: 'end' }>;

export class MultipartTruncated extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartTruncated';
  }
}

/** Part headers are a few short lines (Content-Type, Content-Location, Content-Length); more is malformed. */
const MAX_HEADER_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

type State = 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'done';

/**
 * The boundary parameter of a `multipart/related` Content-Type (RFC 2046 §5.1.1: 1–70 characters,
 * possibly quoted). Throws when the type is not multipart or has no boundary.
 */
export function boundaryOf(contentType: string | null): string {
  if (!contentType || !/^\s*multipart\//i.test(contentType)) throw new Error(`expected a multipart response, got ${contentType ?? 'no Content-Type'}`);
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b) throw new Error(`multipart Content-Type has no boundary: ${contentType}`);
  return b;
}

export class MultipartSplitter {
  /** CRLF "--" boundary: the CRLF before a delimiter belongs to the delimiter, not the body (RFC 2046 §5.1.1). */
  private readonly delimiter: Buffer;
  /** A leading CRLF lets a body that starts right at the first delimiter match like every other one. */
  private buf: Buffer = Buffer.from(CRLF);
  private state: State = 'preamble';
  private partsSeen = 0;

  constructor(boundary: string) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  get parts(): number {
    return this.partsSeen;
  }

  get complete(): boolean {
    return this.state === 'done';
  }

  /** Feeds one chunk; returns the events it completes, in order. */
  push(chunk: Uint8Array): MultipartEvent[] {
    const events: MultipartEvent[] = [];
    if (this.state === 'done') return events; // epilogue: ignored (RFC 2046 §5.1.1)
    const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Fast path, the common case inside a large part: no delimiter in the held-back tail + this chunk.
    // Only the seam (tail + the chunk's first bytes) is copied; the chunk itself is handed on as is.
    if (this.state === 'body' && incoming.length > 2 * this.delimiter.length) {
      const keep = this.delimiter.length - 1;
      const seam = Buffer.concat([this.buf, incoming.subarray(0, keep)]);
      if (seam.indexOf(this.delimiter) < 0 && incoming.indexOf(this.delimiter) < 0) {
        if (this.buf.length) events.push({ type: 'data', chunk: this.buf });
        events.push({ type: 'data', chunk: incoming.subarray(0, incoming.length - keep) });
        this.buf = Buffer.from(incoming.subarray(incoming.length - keep));
        return events;
      }
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, incoming]) : incoming;
    for (;;) {
      if (this.state === 'preamble') {
        const i = this.buf.indexOf(this.delimiter);
        if (i < 0) {
          this.keepTail();
          return events;
        }
        this.buf = this.buf.subarray(i + this.delimiter.length);
        this.state = 'afterDelimiter';
      } else if (this.state === 'afterDelimiter') {
        // After a delimiter: "--" closes the body; otherwise optional transport padding, then CRLF.
        if (this.buf.length < 2) return events;
        if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) {
          this.state = 'done';
          this.buf = Buffer.alloc(0);
          return events;
        }
        const eol = this.buf.indexOf(CRLF);
        if (eol < 0) {
          if (this.buf.length > 256) throw new Error('malformed multipart body: no line break after a boundary');
          return events;
        }
        if (!/^[ \t]*$/.test(this.buf.subarray(0, eol).toString('latin1')))
          throw new Error('malformed multipart body: unexpected characters after a boundary');
        this.buf = this.buf.subarray(eol + 2);
        this.state = 'headers';
      } else if (this.state === 'headers') {
        // A part with no headers at all starts with the blank line itself.
        const end = this.buf.subarray(0, 2).equals(CRLF) ? -2 : this.buf.indexOf(HEADER_END);
        if (end === -1) {
          if (this.buf.length > MAX_HEADER_BYTES) throw new Error(`malformed multipart body: part headers exceed ${MAX_HEADER_BYTES} bytes`);
          return events;
        }
        const headers = end === -2 ? {} : parseHeaders(this.buf.subarray(0, end).toString('latin1'));
        this.buf = this.buf.subarray(end === -2 ? 2 : end + 4);
        this.state = 'body';
        this.partsSeen++;
        events.push({ type: 'part', headers });
      } else if (this.state === 'body') {
        const i = this.buf.indexOf(this.delimiter);
        if (i < 0) {
          const keep = this.delimiter.length - 1;
          if (this.buf.length > keep) {
            events.push({ type: 'data', chunk: this.buf.subarray(0, this.buf.length - keep) });
            this.buf = this.buf.subarray(this.buf.length - keep);
          }
          return events;
        }
        if (i > 0) events.push({ type: 'data', chunk: this.buf.subarray(0, i) });
        events.push({ type: 'end' });
        this.buf = this.buf.subarray(i + this.delimiter.length);
        this.state = 'afterDelimiter';
      } else {
        return events;
      }
    }
  }

  /** The body has ended. Throws MultipartTruncated unless the close delimiter was seen. */
  finish(): void {
    if (this.state === 'done') return;
    throw new MultipartTruncated(
      this.state === 'body'
        ? `multipart body ended inside part ${this.partsSeen}: the transfer was cut short`
        : `multipart body ended without its closing boundary after ${this.partsSeen} part(s): the transfer was cut short`,
    );
  }

  /** In the preamble, only a possible delimiter prefix needs keeping. */
  private keepTail(): void {
    const keep = this.delimiter.length - 1;
    if (this.buf.length > keep) this.buf = Buffer.from(this.buf.subarray(this.buf.length - keep));
  }
}

function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}
