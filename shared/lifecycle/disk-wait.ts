/**
 * A retrieval that waits for disk space (docs/operations.md "Disk watermarks"): the case stays `retrieving`
 * and records the wait, and `nextJob` then names a retrieve job delayed to the next check, tagged with the
 * check's number — so the wait resumes by itself through the same deterministic jobs the reconciler
 * re-creates when one is lost, and ends once the space is back. Pure: the time is passed in.
 */
import type { Case } from '../domain/case.js';

export type DiskWait = Readonly<{ since: string; checks: number; retryAt: string; reason: string; version: number }>;

/** Records (or extends) the wait; only its start goes on the timeline, not every re-check. */
export function waitForDisk(c: Case, now: Date, reason: string, recheckMs: number) {
  const first = !c.diskWait;
  const diskWait: DiskWait = {
    since: c.diskWait?.since ?? now.toISOString(),
    checks: (c.diskWait?.checks ?? 0) + 1,
    retryAt: new Date(now.getTime() + recheckMs).toISOString(),
    reason,
    // The store writes this change as version + 1; nextJob compares it with a resume's (`resumeVersion`).
    version: c.version + 1,
  };
  return { next: { ...c, diskWait }, reason: `waiting for disk space before retrieving: ${reason}`, quiet: !first };
}

/** The case without its wait (the retrieval went ahead, or the case moved on). */
export function withoutDiskWait(c: Case): Case {
  const { diskWait: _wait, ...rest } = c;
  return rest;
}
