/**
 * A Person Name (PN) value as text, whichever shape the toolkit hands it over in: a string, the DICOM JSON
 * object `{ Alphabetic, Ideographic, Phonetic }` (PS3.18 §F.2.2), or dcmjs's naturalized list of those.
 * Only the alphabetic component group is returned (PS3.5 §6.2.1.1): the one a family name is compared on.
 */
export function personName(v: unknown): string | undefined {
  const first = Array.isArray(v) ? (v as unknown[])[0] : v;
  if (first === undefined || first === null) return undefined;
  const text = typeof first === 'object' ? (first as { Alphabetic?: unknown }).Alphabetic : first;
  if (typeof text !== 'string') return undefined;
  const alphabetic = text.split('=')[0]!.trim();
  return alphabetic ? alphabetic : undefined;
}
