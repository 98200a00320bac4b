/**
 * A stage's retries are exhausted (docs/design.md §7): the worker's last attempt, its 'failed' listener or the
 * reconciler (workers/reconcile) records why on the case. Up to analysis the case moves to `failed`; after
 * signature it stays `signed` with the failure, because the physician's signature stands — an admin re-runs
 * the failed report or billing stage (`retryCase`, retry-case.ts).
 */
import type { Case, CaseStatus } from '../domain/case.js';
import type { Change } from '../store/case-store.js';

/** Statuses from which docs/design.md §4 allows `failed`; a later stage's failure is recorded without a move. */
export const MAY_FAIL: ReadonlySet<CaseStatus> = new Set(['retrieving', 'analyzing']);

export type StageFailure = Readonly<{ stage: string; reason: string; attempts: number }>;

/** The case with the failure recorded; null when it is already recorded (the worker and the reconciler may both report one failure). */
export function failStage(c: Case, now: Date, f: StageFailure): Change | null {
  if (c.status === 'failed') return null;
  if (c.failure && c.failure.stage === f.stage && c.failure.reason === f.reason && c.failure.attempts === f.attempts) return null;
  const failure = { stage: f.stage, reason: f.reason, at: now.toISOString(), attempts: f.attempts };
  return MAY_FAIL.has(c.status)
    ? { next: { ...c, status: 'failed' as const, failure }, reason: `${f.stage} failed after ${f.attempts} attempt(s): ${f.reason}` }
    : { next: { ...c, failure }, reason: `${f.stage} failed after ${f.attempts} attempt(s), needs an admin: ${f.reason}` };
}
