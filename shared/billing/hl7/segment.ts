/**
 * Building HL7 v2 segments (HL7 v2.5.1 Chapter 2) with the default delimiters `|^~\&`: every data value is
 * escaped (escape.ts), trailing empty components and fields dropped (§2.5.3: "trailing delimiters may be
 * omitted"). Shared by every message ildflow sends: DFT^P03, ORU^R01 and the order ACKs.
 */
import { escapeHl7, FIELD_SEPARATOR } from './escape.js';

/** A field from components; each component is escaped, trailing empty components dropped. */
export function comps(...values: (string | undefined)[]): string {
  const out = values.map((v) => escapeHl7(v ?? ''));
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('^');
}

/** A segment from its fields (index 1 = field 1); trailing empty fields dropped. */
export function segment(name: string, fields: readonly (string | undefined)[]): string {
  const out = fields.map((f) => f ?? '');
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return [name, ...out].join(FIELD_SEPARATOR);
}

/** HL7 DTM in UTC: YYYYMMDDHHMMSS+0000. */
export function hl7DateTime(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}+0000`;
}

/** HL7 DT from YYYY-MM-DD. */
export function hl7Date(isoDate: string): string {
  return isoDate.replaceAll('-', '');
}
