import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { endsCommand, PduFramer, PduFramingError } from './pdu-framer.js';

/** A P-DATA-TF-shaped PDU (type 0x04) with `body` after its 6-byte header (PS3.8 §9.3.1). */
function pdu(body: Buffer, type = 0x04): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

describe('PduFramer', () => {
  it('hands on every PDU whole and in order, however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1 }), (bodies, cuts) => {
        const pdus = bodies.map((b) => pdu(Buffer.from(b)));
        const stream = Buffer.concat(pdus);
        const framer = new PduFramer(1 << 20);
        const got: Buffer[] = [];
        for (let at = 0, i = 0; at < stream.length; i++) {
          const n = cuts[i % cuts.length]!;
          got.push(...framer.push(stream.subarray(at, at + n)));
          at += n;
        }
        expect(got.map((b) => b.toString('hex'))).toEqual(pdus.map((b) => b.toString('hex')));
        expect(framer.pending).toBe(0);
      }),
    );
  });

  it('hands on a PDU inside one chunk as a view of that chunk, without copying it', () => {
    const chunk = Buffer.concat([pdu(Buffer.alloc(1000, 7)), pdu(Buffer.alloc(10, 8))]);
    const [a, b] = new PduFramer(1 << 20).push(chunk);
    expect(a!.buffer).toBe(chunk.buffer);
    expect(b!.buffer).toBe(chunk.buffer);
  });

  it('refuses an unknown PDU type and a length above the cap instead of waiting for gigabytes', () => {
    expect(() => new PduFramer(1 << 20).push(pdu(Buffer.alloc(4), 0x09))).toThrow(PduFramingError);
    const huge = Buffer.alloc(6);
    huge[0] = 0x04;
    huge.writeUInt32BE(0xfffffff0, 2);
    expect(() => new PduFramer(1 << 20).push(huge)).toThrow(/larger than the 1048576 accepted/);
  });
});

describe('endsCommand', () => {
  /** A P-DATA-TF with the given PDVs (PS3.8 §9.3.5): each item a 4-byte length, context id 1, the control header, the value. */
  const pdata = (...pdvs: [number, Buffer][]): Buffer =>
    pdu(
      Buffer.concat(
        pdvs.map(([mch, value]) => {
          const item = Buffer.alloc(6);
          item.writeUInt32BE(2 + value.length, 0);
          item[4] = 1;
          item[5] = mch;
          return Buffer.concat([item, value]);
        }),
      ),
    );

  it('is true only when the last PDV is the last fragment of a command (PS3.8 Annex E.2)', () => {
    expect(endsCommand(pdata([0x03, Buffer.alloc(20)]))).toBe(true);
    expect(endsCommand(pdata([0x02, Buffer.alloc(20)], [0x03, Buffer.alloc(8)]))).toBe(true);
    expect(endsCommand(pdata([0x01, Buffer.alloc(20)]))).toBe(false); // a command continued in the next PDU
    expect(endsCommand(pdata([0x03, Buffer.alloc(20)], [0x00, Buffer.alloc(8)]))).toBe(false); // its data set follows
    expect(endsCommand(pdu(Buffer.alloc(10), 0x05))).toBe(false); // A-RELEASE-RQ
  });
});
