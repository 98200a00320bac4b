/**
 * Reading a received HL7 v2 message (HL7 v2.5.1 Chapter 2): the bytes of one MLLP frame are decoded in the
 * character set MSH-18 names, then split into segments, fields, repetitions, components and subcomponents
 * with the delimiters MSH-1 and MSH-2 declare, escape sequences undone at the leaves (escape.ts).
 *
 * Why not a library: the npm HL7 parsers (hl7-standard, node-hl7-client) take a decoded string, so MSH-18
 * would already have been guessed, and they keep no segment sequence numbers, which an ERR-2 location
 * needs (§2.15.5.2). The grammar is small; the tests judge this reader against hl7-standard and python-hl7.
 */
import { unescapeHl7 } from '../billing/hl7/escape.js';

/** MSH-18 values ildflow reads (HL7 table 0211), and the Node decoder for each. */
const CHARSETS: Readonly<Record<string, 'utf-8' | 'latin1'>> = {
  '': 'utf-8', // none: ASCII (§2.15.9.18), which UTF-8 decodes the same
  ASCII: 'utf-8',
  'UNICODE UTF-8': 'utf-8',
  '8859/1': 'latin1',
};

export type Hl7Segment = Readonly<{
  name: string;
  /** 1-based occurrence of this segment id in the message, as ERR-2.2 counts it. */
  sequence: number;
  /** `fields[n]` is field n (raw, still escaped); for MSH, fields[1] is the field separator itself. */
  fields: readonly string[];
}>;

export type Hl7Message = Readonly<{
  segments: readonly Hl7Segment[];
  charset: 'utf-8' | 'latin1';
  /** MSH-18 as sent ('' when absent). */
  charsetName: string;
  separators: Readonly<{ field: string; component: string; repetition: string; escape: string; subcomponent: string }>;
}>;

export type Hl7ReadFailure = Readonly<{
  ok: false;
  /** `frame`: not an HL7 message at all (no MSH); `charset`: MSH is readable, but its MSH-18 is not taken or lies. */
  kind: 'frame' | 'charset';
  reason: string;
  /** For `charset`: the message read as Latin-1, enough to acknowledge it. */
  message?: Hl7Message;
}>;

/** Decodes and splits one frame. Never throws: anything unreadable is a failure with its reason. */
export function readHl7(frame: Buffer): Readonly<{ ok: true; message: Hl7Message }> | Hl7ReadFailure {
  // MSH up to MSH-18 is ASCII in every charset ildflow takes: read it as Latin-1 (one char per byte) first.
  const asLatin1 = frame.toString('latin1');
  const first = split(asLatin1, 'latin1', '');
  if (!first) return { ok: false, kind: 'frame', reason: 'not an HL7 message: it does not start with an MSH segment and its delimiters' };
  const charsetName = (first.segments[0]!.fields[18] ?? '').split(first.separators.repetition)[0]!.trim();
  const charset = CHARSETS[charsetName];
  if (!charset) return { ok: false, kind: 'charset', reason: `MSH-18 character set "${charsetName}" is not taken: send UNICODE UTF-8 or 8859/1`, message: first };
  if (charset === 'latin1') return { ok: true, message: { ...first, charsetName } };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(frame);
  } catch {
    // No MSH-18 means ASCII, yet many senders send Latin-1 accents without declaring them: read those as
    // 8859/1. A message that declares UTF-8 (or ASCII) and is not is refused.
    if (charsetName === '') return { ok: true, message: first };
    return { ok: false, kind: 'charset', reason: `the message is not valid UTF-8, as MSH-18 "${charsetName}" says`, message: first };
  }
  return { ok: true, message: split(text, 'utf-8', charsetName)! };
}

function split(text: string, charset: Hl7Message['charset'], charsetName: string): Hl7Message | null {
  // Segments end with CR (§2.5.1); LF and CRLF are tolerated, as interface engines often add them.
  const lines = text.split(/\r\n|\r|\n/).filter((l) => l.length > 0);
  const msh = lines[0];
  if (!msh || !/^MSH[^A-Za-z0-9\s]/.test(msh) || msh.length < 8) return null;
  const field = msh[3]!;
  const enc = msh.slice(4, msh.indexOf(field, 4) < 0 ? 8 : msh.indexOf(field, 4));
  if (enc.length < 4) return null;
  const separators = { field, component: enc[0]!, repetition: enc[1]!, escape: enc[2]!, subcomponent: enc[3]! };
  const counts = new Map<string, number>();
  const segments = lines.map((line) => {
    const parts = line.split(field);
    const name = parts[0]!;
    const sequence = (counts.get(name) ?? 0) + 1;
    counts.set(name, sequence);
    // MSH-1 is the field separator itself, so MSH's fields sit one place further than the split says.
    const fields = name === 'MSH' ? ['', field, ...parts.slice(1)] : parts;
    return { name, sequence, fields };
  });
  return { segments, charset, charsetName, separators };
}

/** The segments with this id, in order. */
export function segmentsOf(m: Hl7Message, name: string): Hl7Segment[] {
  return m.segments.filter((s) => s.name === name);
}

/** The repetitions of field `n`, each split into components and those into subcomponents, unescaped. */
export function repetitions(m: Hl7Message, seg: Hl7Segment | undefined, n: number): string[][][] {
  const raw = seg?.fields[n] ?? '';
  if (raw === '') return [];
  const { repetition, component, subcomponent } = m.separators;
  // MSH-2 holds the delimiters themselves: never split.
  if (seg?.name === 'MSH' && n <= 2) return [[[raw]]];
  return raw.split(repetition).map((rep) => rep.split(component).map((c) => c.split(subcomponent).map((s) => unescapeHl7(s))));
}

/** One value: field `n`, repetition `rep` (0-based), component and subcomponent (1-based); '' when absent. */
export function value(m: Hl7Message, seg: Hl7Segment | undefined, n: number, component = 1, rep = 0, sub = 1): string {
  return (repetitions(m, seg, n)[rep]?.[component - 1]?.[sub - 1] ?? '').trim();
}

/** MSH-9 as `ORM^O01`, MSH-10 and the sending application and facility: what an ACK echoes. */
export function header(m: Hl7Message) {
  const msh = m.segments[0]!;
  return {
    messageType: value(m, msh, 9, 1),
    triggerEvent: value(m, msh, 9, 2),
    controlId: value(m, msh, 10),
    sendingApplication: value(m, msh, 3),
    sendingFacility: value(m, msh, 4),
    receivingApplication: value(m, msh, 5),
    receivingFacility: value(m, msh, 6),
    processingId: value(m, msh, 11),
    version: value(m, msh, 12),
  };
}
