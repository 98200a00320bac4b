/** A review lease that ran out (docs/design.md §4 `in_review`): the lease sweeper (workers/sweeper.ts) returns the case to the queue. */
import type { Case } from '../domain/case.js';
import { TransitionRefused } from '../errors.js';
import { isLeaseLive, withoutClaim } from '../review/actor.js';
import type { Change } from '../store/case-store.js';

/** in_review with an expired lease → awaiting_review, so the case returns to the queue. */
export function expireLease(c: Case, now: Date): Change {
  if (c.status !== 'in_review') throw new TransitionRefused(`a ${c.status} case has no lease`);
  if (c.claim && isLeaseLive(c.claim, now)) throw new TransitionRefused(`the lease on case ${c.id} runs until ${c.claim.expiresAt}`);
  return {
    next: { ...withoutClaim(c), status: 'awaiting_review' },
    reason: c.claim ? `lease expired (held by ${c.claim.userId} until ${c.claim.expiresAt})` : 'lease expired',
  };
}
