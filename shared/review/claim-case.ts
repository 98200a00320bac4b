/** Claiming a case for review: a renewable lease held by one physician (docs/design.md §4 `in_review`). */
import type { Case, Claim } from '../domain/case.js';
import { ClaimHeld, TransitionRefused } from '../errors.js';
import type { Change } from '../store/case-store.js';
import { isLeaseLive, withoutClaim, type ReviewUser } from './actor.js';

/**
 * awaiting_review → in_review with a claim; the holder claiming again renews the lease; another physician
 * gets 409 while the lease is live, and takes the case over once it has expired.
 */
export function claimCase(c: Case, user: ReviewUser, now: Date, leaseMinutes: number): Change {
  const claim: Claim = {
    userId: user.id,
    userName: user.name,
    claimedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + leaseMinutes * 60_000).toISOString(),
  };
  if (c.status === 'awaiting_review')
    return { next: { ...c, status: 'in_review', claim }, reason: `claimed by ${user.id}` };
  if (c.status !== 'in_review') throw new TransitionRefused(`a ${c.status} case cannot be claimed`);

  const held = c.claim;
  if (held?.userId === user.id)
    // Renewal keeps the original claimedAt (how long the physician has held the case) and is not written to
    // the timeline, which records the claim and its end: a page renewing every few minutes would grow it
    // without bound.
    return { next: { ...c, claim: { ...claim, claimedAt: held.claimedAt } }, reason: `lease renewed by ${user.id}`, quiet: true };
  if (held && isLeaseLive(held, now))
    throw new ClaimHeld(`case ${c.id} is held by ${held.userName} until ${held.expiresAt}`);
  return {
    next: { ...withoutClaim(c), claim },
    reason: held
      ? `lease of ${held.userId} expired at ${held.expiresAt}; claimed by ${user.id}`
      : `claimed by ${user.id}`,
  };
}

/** in_review → awaiting_review, by the holder only. */
export function releaseCase(c: Case, user: ReviewUser, _now: Date): Change {
  if (c.status !== 'in_review') throw new TransitionRefused(`a ${c.status} case is not claimed`);
  if (c.claim?.userId !== user.id) throw new ClaimHeld(`case ${c.id} is held by ${c.claim?.userName ?? 'nobody'}, not by you`);
  return { next: { ...withoutClaim(c), status: 'awaiting_review' }, reason: `released by ${user.id}` };
}
