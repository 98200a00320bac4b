import { describe, expect, it } from 'vitest';
import { boundaryOf, MultipartSplitter, MultipartTruncated, type MultipartEvent } from './multipart.js';

const B = 'b0undary-1234';

function body(parts: Buffer[], opts: { preamble?: string; close?: boolean; epilogue?: string } = {}): Buffer {
  const out: Buffer[] = [];
  if (opts.preamble) out.push(Buffer.from(opts.preamble + '\r\n'));
  for (const p of parts) out.push(Buffer.from(`--${B}\r\nContent-Type: application/dicom\r\nContent-Length: ${p.length}\r\n\r\n`), p, Buffer.from('\r\n'));
  if (opts.close !== false) out.push(Buffer.from(`--${B}--\r\n${opts.epilogue ?? ''}`));
  return Buffer.concat(out);
}

/** Feeds `data` in chunks of `size` and gathers the parts' bodies. */
function split(data: Buffer, size: number): { parts: Buffer[]; headers: Record<string, string>[]; splitter: MultipartSplitter } {
  const s = new MultipartSplitter(B);
  const parts: Buffer[] = [];
  const headers: Record<string, string>[] = [];
  let cur: Buffer[] | null = null;
  const apply = (ev: MultipartEvent) => {
    if (ev.type === 'part') {
      cur = [];
      headers.push({ ...ev.headers });
    } else if (ev.type === 'data') cur!.push(Buffer.from(ev.chunk));
    else {
      parts.push(Buffer.concat(cur!));
      cur = null;
    }
  };
  for (let i = 0; i < data.length; i += size) for (const ev of s.push(data.subarray(i, i + size))) apply(ev);
  return { parts, headers, splitter: s };
}

/** Bytes that look like a boundary but are not one, and CRLFs, to tempt a naive parser. */
function tricky(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x & 0xff;
  }
  Buffer.from(`\r\n--${B.slice(0, -1)}X`).copy(b, Math.floor(n / 3));
  Buffer.from('\r\n\r\n--').copy(b, Math.floor(n / 2));
  return b;
}

describe('MultipartSplitter', () => {
  const parts = [tricky(1000, 1), tricky(70_000, 2), Buffer.alloc(0), tricky(3, 3)];
  const data = body(parts, { preamble: 'this is a preamble', epilogue: 'ignored epilogue' });

  it.each([1, 2, 7, B.length + 3, 4096, data.length])('splits the parts exactly with chunks of %i bytes (boundaries split across chunks)', (size) => {
    const r = split(data, size);
    expect(r.parts.map((p) => p.length)).toEqual(parts.map((p) => p.length));
    r.parts.forEach((p, i) => expect(p.equals(parts[i]!)).toBe(true));
    expect(r.headers[0]).toEqual({ 'content-type': 'application/dicom', 'content-length': '1000' });
    expect(() => r.splitter.finish()).not.toThrow();
    expect(r.splitter.parts).toBe(4);
  });

  it('treats a body without the closing boundary as a truncated transfer', () => {
    const r = split(body(parts, { close: false }), 4096);
    expect(() => r.splitter.finish()).toThrow(MultipartTruncated);
  });

  it('treats a body cut inside a part as truncated, naming the part', () => {
    const full = body(parts);
    const r = split(full.subarray(0, 40_000), 1000);
    expect(() => r.splitter.finish()).toThrow(/inside part 2/);
  });

  it('treats an empty body as truncated', () => {
    expect(() => new MultipartSplitter(B).finish()).toThrow(MultipartTruncated);
  });

  it('accepts a body that starts right at the first boundary and parts without headers', () => {
    const s = new MultipartSplitter(B);
    const evs = s.push(Buffer.from(`--${B}\r\n\r\nabc\r\n--${B}--`));
    expect(evs.map((e) => e.type)).toEqual(['part', 'data', 'end']);
    expect(s.complete).toBe(true);
  });

  it('allows transport padding after a boundary (RFC 2046 §5.1.1)', () => {
    const s = new MultipartSplitter(B);
    s.push(Buffer.from(`--${B}  \t\r\nContent-Type: application/dicom\r\n\r\nxyz\r\n--${B}--`));
    expect(s.complete).toBe(true);
  });

  it('refuses endless part headers instead of buffering them', () => {
    const s = new MultipartSplitter(B);
    expect(() => s.push(Buffer.concat([Buffer.from(`--${B}\r\nX: `), Buffer.alloc(20_000, 0x61)]))).toThrow(/headers exceed/);
  });
});

describe('boundaryOf', () => {
  it.each([
    ['multipart/related; type="application/dicom"; boundary=abc123', 'abc123'],
    ['multipart/related; boundary="quoted:boundary"; type="application/dicom"', 'quoted:boundary'],
    ['Multipart/Related;Boundary=X', 'X'],
  ])('reads the boundary of %s', (ct, b) => expect(boundaryOf(ct)).toBe(b));

  it('refuses a response that is not multipart', () => {
    expect(() => boundaryOf('application/json')).toThrow(/expected a multipart/);
    expect(() => boundaryOf('multipart/related; type="application/dicom"')).toThrow(/no boundary/);
  });
});
