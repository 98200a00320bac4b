/**
 * `ildflow audit verify`: walks the daily files in order and checks every line against the chain
 * (audit-chain.ts `checkLine`); says where it first breaks. Read-only.
 */
import { checkLine, type ChainBreak, type ChainHead, type VerifyState } from './audit-chain.js';
import { auditFiles, filesTail, readLines } from './audit-files.js';

export type VerifyOutcome =
  | Readonly<{ ok: true; entries: number; files: number; last: ChainHead | null }>
  | Readonly<{ ok: false; entries: number; broken: ChainBreak }>;

/**
 * `fromDay` (YYYY-MM-DD): start at that day's file, chained to the last entry of the day before when the
 * files still hold it. `head`: the chain's head in Redis, which covers the last line (no line follows it).
 */
export async function verifyAuditFiles(dir: string, opts: { fromDay?: string; head?: ChainHead | null } = {}): Promise<VerifyOutcome> {
  const anchor = opts.fromDay ? await filesTail(dir, { beforeDay: opts.fromDay }) : null;
  let state: VerifyState = { head: anchor ? { seq: anchor.seq, hash: anchor.hash } : null, place: null, entries: 0 };
  for await (const { file, line, text } of readLines(dir, opts.fromDay)) {
    const r = checkLine(state, { file, line }, text, { fromAnywhere: Boolean(opts.fromDay) && !anchor });
    if ('broken' in r) return { ok: false, entries: state.entries, broken: r.broken };
    state = r.state;
  }
  const h = opts.head;
  if (h && state.head && state.place && h.seq === state.head.seq && h.hash !== state.head.hash)
    return { ok: false, entries: state.entries, broken: { ...state.place, problem: `entry ${h.seq} does not match the chain's head in Redis: this line was altered` } };
  const files = (await auditFiles(dir)).filter((f) => !opts.fromDay || f.day >= opts.fromDay).length;
  return { ok: true, entries: state.entries, files, last: state.head };
}
