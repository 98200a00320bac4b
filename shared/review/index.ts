/** Review and lifecycle decisions: pure `(current, now, …) => Change` functions for `CaseStore.update`. */
export { claimCase, releaseCase, expireLease } from './claim-case.js';
export { submitReview, attestationText } from './submit-review.js';
export { addAddendum, type ChargeLike, type Reversals } from './add-addendum.js';
export { cancelCase, retryCase, resumeAwaitingStudy, matchesStudyEvent, type StudyEvent } from './lifecycle.js';
export { LeaseExpired } from './errors.js';
export { canonicalJson, isLeaseLive, type ReviewUser } from './actor.js';
