/**
 * The case lifecycle (docs/design.md §4): the transition table, the one `nextJob(case)` the API, the workers and
 * the reconciler enqueue from, and every decision that changes a case's status — pure `(case, now, input)`
 * functions that return a `Change` for `CaseStore.update`, or refuse with a typed error (TransitionRefused,
 * 409) or null ("nothing to do"). Callers load, decide here, store, and enqueue `nextJob` of what they stored.
 * The physician's own steps (claim, release, review, addendum) are in shared/review.
 */
export { TRANSITIONS, TERMINAL, canTransition } from './transitions.js';
export { nextJob, finalDocumentsStored, FINAL_PACS_OBJECTS, STATUSES_WITH_JOBS, type PlannedJob } from './next-job.js';
export { cancelCase, CANCELLABLE } from './cancel-case.js';
export { retryCase, SIGNED_STAGES } from './retry-case.js';
export { resumeAwaitingStudy, matchesStudyEvent, endWaitIfDue, type StudyEvent } from './resume-waiting.js';
export { failStage, MAY_FAIL, type StageFailure } from './stage-failure.js';
export { holdIfIdentifiersDiffer, reconcileCase, ReconcileBody, type HeldStudy } from './identity-hold.js';
export { expireLease } from './lease-expiry.js';
export { startRetrieving, becomeIneligible, startAwaitingStudy, seriesRetrieved, preliminaryReportReady, billSigned } from './stage-outcomes.js';
export { waitForDisk, withoutDiskWait, type DiskWait } from './disk-wait.js';
