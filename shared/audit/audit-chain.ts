/**
 * The audit trail's hash chain (docs/operations.md "The audit trail"): every entry is one line of JSON that
 * carries its sequence number and the SHA-256 of the line before it, so a line removed, inserted or altered
 * breaks the chain where it happened. HIPAA asks for audit controls (45 CFR 164.312(b)) and for such
 * documentation to be kept six years (45 CFR 164.316(b)(2)); the chain lets an auditor see that it was
 * kept whole. Pure: the text of an entry is built here, where it is written (Redis) and where it is read
 * back (the files) only move it.
 */
import { createHash } from 'node:crypto';

/** The `prev` of the first entry ever written. */
export const GENESIS = '0'.repeat(64);

/** The last entry of the chain: its sequence number and the SHA-256 of its line. */
export type ChainHead = Readonly<{ seq: number; hash: string }>;

/** What a caller audits: who, what, which case(s), from where. No PHI: case ids, never patients. */
/** `issuer`/`subject`: the OpenID Provider's and its subject, for a user signed in there (docs/security.md). */
export type AuditFields = Readonly<{ userId: string; issuer?: string; subject?: string; action: string; caseId?: string; caseIds?: readonly string[]; ip?: string; detail?: string }>;

/** One entry as it is stored and exported. */
export type AuditRecord = AuditFields & Readonly<{ seq: number; at: string; prev: string }>;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The line of the entry that follows `head` (null: the first entry ever), and the head it makes. The key
 * order is fixed here, so the same entry is always the same bytes.
 */
export function chainEntry(fields: AuditFields, head: ChainHead | null, at: Date): { text: string; head: ChainHead } {
  const seq = (head?.seq ?? 0) + 1;
  const record: AuditRecord = {
    seq,
    at: at.toISOString(),
    prev: head?.hash ?? GENESIS,
    userId: fields.userId,
    ...(fields.issuer !== undefined ? { issuer: fields.issuer } : {}),
    ...(fields.subject !== undefined ? { subject: fields.subject } : {}),
    action: fields.action,
    ...(fields.caseId !== undefined ? { caseId: fields.caseId } : {}),
    ...(fields.caseIds !== undefined ? { caseIds: [...fields.caseIds] } : {}),
    ...(fields.ip !== undefined ? { ip: fields.ip } : {}),
    ...(fields.detail !== undefined ? { detail: fields.detail } : {}),
  };
  const text = JSON.stringify(record);
  return { text, head: { seq, hash: sha256Hex(text) } };
}

/** The head as Redis keeps it: `<seq> <sha256>`. */
export function formatHead(h: ChainHead): string {
  return `${h.seq} ${h.hash}`;
}

export function parseHead(s: string | null | undefined): ChainHead | null {
  const m = /^(\d+) ([0-9a-f]{64})$/.exec(s ?? '');
  return m ? { seq: Number(m[1]), hash: m[2]! } : null;
}

/** Reads one line back as a record, or null when it is not one (torn, edited into something else). */
export function parseRecord(text: string): AuditRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Partial<AuditRecord>;
  if (!Number.isSafeInteger(r.seq) || typeof r.at !== 'string' || typeof r.prev !== 'string' || typeof r.action !== 'string') return null;
  return r as AuditRecord;
}

/** The UTC day an entry is filed under: its own, or a later one when the file of that day is already started. */
export function auditDay(at: string, lastDay: string | null): string {
  const day = at.slice(0, 10);
  return lastDay && lastDay > day ? lastDay : day;
}

/** Where a line is: file name and 1-based line number. */
export type LinePlace = Readonly<{ file: string; line: number }>;

export type ChainBreak = LinePlace & Readonly<{ problem: string }>;

/** Where a verification stands after the lines it has seen. */
export type VerifyState = Readonly<{ head: ChainHead | null; place: LinePlace | null; entries: number }>;

/**
 * Checks one line against the chain so far. `head` null at the start: the line must be the first entry
 * ever (seq 1, prev GENESIS) unless `fromAnywhere` (a verification that starts at a later day). Returns
 * the new state, or where the chain breaks and how: an altered line is named by the line whose `prev`
 * no longer matches it, so the line named is the one that was changed.
 */
export function checkLine(state: VerifyState, place: LinePlace, text: string, opts: { fromAnywhere?: boolean } = {}): { state: VerifyState } | { broken: ChainBreak } {
  const r = parseRecord(text);
  if (!r) return { broken: { ...place, problem: 'not an audit entry (altered, or a torn write)' } };
  const { head } = state;
  if (!head) {
    if (!opts.fromAnywhere && (r.seq !== 1 || r.prev !== GENESIS))
      return { broken: { ...place, problem: `the chain does not start here: entry ${r.seq} follows entries that are not in these files (verify --from a later day)` } };
  } else if (r.seq > head.seq + 1) {
    const missing = r.seq === head.seq + 2 ? `entry ${head.seq + 1} is` : `entries ${head.seq + 1}–${r.seq - 1} are`;
    return { broken: { ...place, problem: `${missing} missing before this line (deleted)` } };
  } else if (r.seq <= head.seq) {
    return { broken: { ...place, problem: `entry ${r.seq} comes after entry ${head.seq} (inserted or repeated)` } };
  } else if (r.prev !== head.hash) {
    const next = `line ${place.line}${state.place && state.place.file !== place.file ? ` of ${place.file}` : ''}`;
    return { broken: { ...(state.place ?? place), problem: `entry ${head.seq} does not match the SHA-256 that ${next} records as its prev: this line was altered (or that line's prev)` } };
  }
  return { state: { head: { seq: r.seq, hash: sha256Hex(text) }, place, entries: state.entries + 1 } };
}
