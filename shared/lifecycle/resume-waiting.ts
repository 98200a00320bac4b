/**
 * The bounded wait for a study (docs/design.md §4 `awaiting_study`): a PACS event resumes a waiting case, and
 * once the wait is over without a usable prior CT the case is ineligible.
 */
import type { Case } from '../domain/case.js';
import { TransitionRefused } from '../errors.js';
import type { Change } from '../store/case-store.js';

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

/** awaiting_study → ineligible once the bounded wait is over and no usable prior CT arrived; else null. */
export function endWaitIfDue(c: Case, now: Date): Change | null {
  if (c.status !== 'awaiting_study' || !c.awaitingStudyUntil || Date.parse(c.awaitingStudyUntil) > now.getTime()) return null;
  const reason = `no eligible prior chest CT arrived by ${c.awaitingStudyUntil}`;
  return { next: { ...c, status: 'ineligible' as const, ineligibleReasons: [reason] }, reason };
}
