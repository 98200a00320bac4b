import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ackOutcome, buildAck, frameMllp, MllpDecoder, parseAck, type AckCode } from './mllp.js';

const MSG = 'MSH|^~\\&|ILDFLOW|F|BILLING|B|20261127170000+0000||DFT^P03^DFT_P03|IFABC|P|2.5.1\rEVN|P03\r';

describe('MLLP framing (HL7 v2.5.1 Appendix C)', () => {
  it('wraps a message in 0x0B … 0x1C 0x0D', () => {
    const f = frameMllp(MSG);
    expect(f[0]).toBe(0x0b);
    expect([...f.subarray(-2)]).toEqual([0x1c, 0x0d]);
    expect(f.subarray(1, -2).toString('utf8')).toBe(MSG);
  });

  it('decodes messages split across any chunk boundaries, with noise between frames', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 8 }), (bodies, cuts) => {
        const messages = bodies.map((b) => `MSH|^~\\&|${b.replaceAll('\u000b', '').replaceAll('\u001c', '')}\r`);
        const stream = Buffer.concat(messages.flatMap((m) => [Buffer.from('noise'), frameMllp(m)]));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const dec = new MllpDecoder();
        const out: string[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          out.push(...dec.push(stream.subarray(prev, p)));
          prev = p;
        }
        expect(out).toEqual(messages);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a frame larger than its limit', () => {
    const dec = new MllpDecoder(10);
    expect(() => dec.push(Buffer.concat([Buffer.from([0x0b]), Buffer.alloc(20, 0x41)]))).toThrow(/larger than 10 bytes/);
  });
});

describe('parseAck', () => {
  it.each<[AckCode, 'done' | 'retry' | 'reject']>([
    ['AA', 'done'],
    ['CA', 'done'],
    ['AE', 'retry'],
    ['CE', 'retry'],
    ['AR', 'reject'],
    ['CR', 'reject'],
  ])('reads MSA-1 %s as %s and echoes MSH-10 in MSA-2', (code, outcome) => {
    const ack = parseAck(buildAck(MSG, code, 'why \\F\\ not'));
    expect(ack).toEqual({ code, controlId: 'IFABC', text: 'why | not' });
    expect(ackOutcome(code)).toBe(outcome);
  });

  it('reads the error text from ERR when MSA-3 is empty', () => {
    const ack = 'MSH|^~\\&|B|B|I|F|20261127||ACK|1|P|2.5.1\rMSA|AE|IFABC\rERR||PID^1^3|103^Table value not found^HL70357|E||||Unknown MRN';
    expect(parseAck(ack)).toMatchObject({ code: 'AE', text: 'Unknown MRN' });
  });

  it.each([
    ['no MSH', 'MSA|AA|1'],
    ['no MSA', 'MSH|^~\\&|B|B|I|F|20261127||ACK|1|P|2.5.1'],
    ['an unknown code', 'MSH|^~\\&|B|B|I|F|20261127||ACK|1|P|2.5.1\rMSA|OK|1'],
  ])('refuses an acknowledgment with %s', (_name, text) => {
    expect(() => parseAck(text)).toThrow();
  });
});
