/** Order-level lifecycle decisions: cancel, admin retry, and resuming a case when its study arrives. */
import { mayCancel } from '../auth/case-access.js';
import type { Case } from '../domain/case.js';
import { CaseNotFound, TransitionRefused } from '../errors.js';
import type { Change } from '../store/case-store.js';
import { withoutClaim, type ReviewUser } from './actor.js';

/** Before signature: the statuses from which the lifecycle (docs/operations.md) allows `cancelled`. */
const CANCELLABLE = new Set<Case['status']>(['queued', 'awaiting_study', 'on_hold', 'awaiting_review']);

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

/** failed → queued with attempt + 1, so every stage gets fresh deterministic job ids. */
export function retryCase(c: Case, user: ReviewUser, _now: Date): Change {
  if (c.status !== 'failed') throw new TransitionRefused(`only a failed case can be retried; this one is ${c.status}`);
  const { failure, resumeVersion: _resumed, diskWait: _wait, ...rest } = c;
  return {
    next: { ...rest, status: 'queued', attempt: c.attempt + 1 },
    reason: `retry by ${user.id} (attempt ${c.attempt + 1}) after: ${failure?.reason ?? 'failure'}`,
  };
}

/** A PACS notification: the study a waiting case needs may have arrived. */
export type StudyEvent = Readonly<{ studyInstanceUid?: string; patientId?: string; accessionNumber?: string; source: string }>;

/**
 * Whether an event concerns a waiting case: the requested study by UID or accession when the order named
 * one; otherwise any new study of the patient (ildflow then picks the most recent eligible prior CT).
 */
export function matchesStudyEvent(c: Case, ev: StudyEvent): boolean {
  const req = c.requestedStudy;
  if (req?.studyInstanceUid && ev.studyInstanceUid) return req.studyInstanceUid === ev.studyInstanceUid;
  if (req?.accessionNumber && ev.accessionNumber) return req.accessionNumber === ev.accessionNumber && (!ev.patientId || ev.patientId === c.patient.id);
  if (req?.studyInstanceUid || req?.accessionNumber) return false;
  return ev.patientId !== undefined && ev.patientId === c.patient.id;
}

/**
 * awaiting_study → retrieving. Any other status is refused, which is what makes a repeated PACS event (a
 * study can turn stable more than once) a no-op: the store re-decides on the fresh state after a race.
 */
export function resumeAwaitingStudy(c: Case, _now: Date, ev: StudyEvent): Change {
  if (c.status !== 'awaiting_study') throw new TransitionRefused(`case ${c.id} is ${c.status}, not awaiting_study`);
  const { awaitingStudyUntil: _until, ...rest } = c;
  // The store writes the change as version + 1: the resume's retrieve job is named after it (nextJob).
  return { next: { ...rest, status: 'retrieving', resumeVersion: c.version + 1 }, reason: `study available (${ev.source})` };
}
