/**
 * An admin's retry (POST /v1/cases/{id}/retry, docs/operations.md "Retrying a case"):
 * - a `failed` case (retrieval or analysis gave up) starts again as `queued` with the next attempt, so every
 *   stage gets fresh job ids;
 * - a `signed` case whose final report or billing stage gave up (failStage records it without a move: the
 *   signature stands) has that stage run again. The attempt is kept — the verified SR's and PDF's UIDs derive
 *   from it (shared/reports/dicom-uids.ts), so the PACS receives the same instances again, and the charge's
 *   event id derives from the case and its codes, so it cannot be emitted twice. Only the job is new:
 *   `stageRetryVersion` names it (nextJob), as `resumeVersion` does for a resume, so the reconciler re-creates
 *   a lost one under the same id and never beside the failed one.
 * Anything else has nothing to retry: 409.
 */
import type { Case } from '../domain/case.js';
import { TransitionRefused } from '../errors.js';
import type { ReviewUser } from '../review/actor.js';
import type { Change } from '../store/case-store.js';

/** The stages after signature that an admin can re-run on a `signed` case (the queues they run on). */
export const SIGNED_STAGES: readonly string[] = ['report', 'billing'];

/** failed → queued (attempt + 1), or signed → signed with its failed stage's job re-created; else TransitionRefused (409). */
export function retryCase(c: Case, user: ReviewUser, _now: Date): Change {
  if (c.status === 'signed') return retrySignedStage(c, user);
  if (c.status !== 'failed')
    throw new TransitionRefused(`nothing to retry: only a failed case, or a signed case whose final report or billing failed, can be retried; this one is ${c.status}`);
  const { failure, resumeVersion: _resumed, diskWait: _wait, ...rest } = c;
  return {
    next: { ...rest, status: 'queued', attempt: c.attempt + 1 },
    reason: `retry by ${user.id} (attempt ${c.attempt + 1}) after: ${failure?.reason ?? 'failure'}`,
  };
}

function retrySignedStage(c: Case, user: ReviewUser): Change {
  const { failure, ...rest } = c;
  if (!failure || !SIGNED_STAGES.includes(failure.stage))
    throw new TransitionRefused('nothing to retry: this signed case has no failed final report or billing; they are under way');
  return {
    // The store writes the change as version + 1: the re-created job is named after it (nextJob).
    next: { ...rest, stageRetryVersion: c.version + 1 },
    reason: `retry of the ${failure.stage} stage by ${user.id} after: ${failure.reason}`,
  };
}
