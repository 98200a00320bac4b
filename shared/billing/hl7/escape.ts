/**
 * HL7 v2 escaping of data values (HL7 v2.5.1 Chapter 2, §2.7 "Use of escape sequences in text fields").
 * ildflow always sends the default encoding characters `|^~\&` (MSH-1, MSH-2), so the escape sequences
 * are fixed:
 *   |  → \F\   field separator          ^  → \S\   component separator
 *   &  → \T\   subcomponent separator   ~  → \R\   repetition separator
 *   \  → \E\   escape character
 * Characters that would break the segment or the MLLP frame are sent as hexadecimal escapes
 * (§2.7.4 `\Xdddd…\`): CR (segment terminator), LF, and the MLLP start/end blocks 0x0B and 0x1C. Every
 * other character (UTF-8 names, accents) is sent as is, with MSH-18 `UNICODE UTF-8`.
 */

export const FIELD_SEPARATOR = '|';
export const ENCODING_CHARACTERS = '^~\\&';

const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\E\\',
  '|': '\\F\\',
  '^': '\\S\\',
  '&': '\\T\\',
  '~': '\\R\\',
  '\r': '\\X0D\\',
  '\n': '\\X0A\\',
  '\u000b': '\\X0B\\',
  '\u001c': '\\X1C\\',
};

// Matching the MLLP frame bytes 0x0B and 0x1C is the point here, so the control-character rule is off.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\\|^&~\r\n\u000b\u001c]/g;

/** Escapes one data value (a component or subcomponent), so no delimiter in it is read as structure. */
export function escapeHl7(text: string): string {
  return text.replace(NEEDS_ESCAPE, (ch) => ESCAPES[ch] ?? ch);
}

/**
 * The inverse of `escapeHl7`, for reading a received value (an ACK's MSA-3 or ERR text). Unknown escape
 * sequences (formatting such as `\.br\` or `\H\`) are dropped, as §2.7 allows a receiver to ignore them.
 */
export function unescapeHl7(text: string): string {
  return text.replace(/\\([^\\]*)\\/g, (_m, seq: string) => {
    switch (seq) {
      case 'E':
        return '\\';
      case 'F':
        return '|';
      case 'S':
        return '^';
      case 'T':
        return '&';
      case 'R':
        return '~';
      default: {
        const hex = /^X((?:[0-9A-Fa-f]{2})+)$/.exec(seq);
        if (!hex) return '';
        return Buffer.from(hex[1]!, 'hex').toString('latin1');
      }
    }
  });
}
