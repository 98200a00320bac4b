/**
 * Review decisions: pure `(current, now, …) => Change` functions for `CaseStore.update`. The order-level
 * lifecycle decisions (cancel, retry, resume, lease expiry, …) are in shared/lifecycle.
 */
export { claimCase, releaseCase } from './claim-case.js';
export { submitReview, attestationText } from './submit-review.js';
export { addAddendum, type ChargeLike, type Reversals } from './add-addendum.js';
export { LeaseExpired } from './errors.js';
export { canonicalJson, isLeaseLive, type ReviewUser } from './actor.js';
