/** An admin's retry of a `failed` case (POST /v1/cases/{id}/retry, docs/design.md §4 `failed`). */
import type { Case } from '../domain/case.js';
import { TransitionRefused } from '../errors.js';
import type { ReviewUser } from '../review/actor.js';
import type { Change } from '../store/case-store.js';

/** failed → queued with attempt + 1, so every stage gets fresh deterministic job ids. */
export function retryCase(c: Case, user: ReviewUser, _now: Date): Change {
  if (c.status !== 'failed') throw new TransitionRefused(`only a failed case can be retried; this one is ${c.status}`);
  const { failure, resumeVersion: _resumed, diskWait: _wait, ...rest } = c;
  return {
    next: { ...rest, status: 'queued', attempt: c.attempt + 1 },
    reason: `retry by ${user.id} (attempt ${c.attempt + 1}) after: ${failure?.reason ?? 'failure'}`,
  };
}
