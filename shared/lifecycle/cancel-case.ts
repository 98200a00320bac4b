/** Cancelling an order (docs/design.md §4): by its orderer or an admin, or by the EHR (ORC-1 CA), before signature. */
import { mayCancel } from '../auth/case-access.js';
import type { Case } from '../domain/case.js';
import { CaseNotFound, TransitionRefused } from '../errors.js';
import { withoutClaim, type ReviewUser } from '../review/actor.js';
import type { Change } from '../store/case-store.js';

/** Before signature: the statuses from which the lifecycle (docs/operations.md) allows `cancelled`. */
export const CANCELLABLE: ReadonlySet<Case['status']> = new Set(['queued', 'awaiting_study', 'on_hold', 'awaiting_review']);

/**
 * → cancelled, before signature. Cases mid-stage (retrieving, analyzing) or claimed by a physician
 * (in_review) are refused with 409: the running stage or the physician would otherwise act on a
 * cancelled case. Roles are checked by the route; here the state, and that an orderer cancels only the
 * orders it placed (docs/design.md §6) — another orderer's case is answered as if it did not exist.
 */
export function cancelCase(c: Case, user: ReviewUser, _now: Date, why?: string): Change {
  if (!mayCancel(c, user)) throw new CaseNotFound(`no case ${c.id}`);
  if (!CANCELLABLE.has(c.status)) throw new TransitionRefused(`a ${c.status} case cannot be cancelled`);
  return { next: { ...withoutClaim(c), status: 'cancelled' }, reason: `cancelled by ${user.id}${why ? `: ${why}` : ''}` };
}
