import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHl7, unescapeHl7 } from './escape.js';

describe('escapeHl7 (HL7 v2.5.1 §2.7)', () => {
  it.each([
    ['a field separator', 'A|B', 'A\\F\\B'],
    ['a component separator', 'DOE^JANE', 'DOE\\S\\JANE'],
    ['a subcomponent separator', 'Smith & Sons', 'Smith \\T\\ Sons'],
    ['a repetition separator', 'a~b', 'a\\R\\b'],
    ['the escape character', 'C:\\dir', 'C:\\E\\dir'],
    ['an escape sequence lookalike', '\\F\\', '\\E\\F\\E\\'],
    ['a carriage return (segment terminator)', 'line1\rline2', 'line1\\X0D\\line2'],
    ['a line feed', 'a\nb', 'a\\X0A\\b'],
    ['the MLLP start and end blocks', 'a\u000bb\u001cc', 'a\\X0B\\b\\X1C\\c'],
    ['plain text and Unicode', "O'Brien-Müller, José", "O'Brien-Müller, José"],
  ])('escapes %s', (_name, raw, escaped) => {
    expect(escapeHl7(raw)).toBe(escaped);
    expect(unescapeHl7(escaped)).toBe(raw);
  });

  it('round-trips any string, and the escaped form never contains a delimiter, CR or frame byte', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('|', '^', '~', '\\', '&', '\r', '\n', '\u000b', '\u001c', 'a', 'É', ' ', 'F', 'X', '0') }), (s) => {
        const e = escapeHl7(s);
        expect([...e].some((ch) => '|^~&\r\n\u000b\u001c'.includes(ch))).toBe(false);
        expect(unescapeHl7(e)).toBe(s);
      }),
      { numRuns: 500 },
    );
    fc.assert(fc.property(fc.string(), (s) => unescapeHl7(escapeHl7(s)) === s), { numRuns: 500 });
  });

  it('drops formatting escapes it does not know when reading', () => {
    expect(unescapeHl7('a\\.br\\b\\H\\c')).toBe('abc');
  });
});
