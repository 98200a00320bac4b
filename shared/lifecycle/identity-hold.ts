/**
 * The two-identifier gate before analysis (docs/pacs.md "Two patient identifiers"; The Joint Commission
 * NPSG.01.01.01): the study the retrieve stage chose must agree with the order on PatientID and birth date
 * (and family name where both carry one). A disagreement holds the case `on_hold` until an admin confirms
 * the study belongs to the patient (→ retrieving, that study taken as is) or cancels the order. Pure
 * decisions; the retrieve worker and POST /v1/cases/{id}/reconcile store them.
 */
import { z } from 'zod';
import { LIMITS, type Case, type IdentityHold } from '../domain/case.js';
import { compareIdentifiers, describeDiffers, type StudyPatient } from '../domain/patient-identity.js';
import { TransitionRefused } from '../errors.js';
import { cancelCase } from './cancel-case.js';
import type { ReviewUser } from '../review/actor.js';
import type { Change } from '../store/case-store.js';

export type HeldStudy = StudyPatient & Readonly<{ studyInstanceUid: string; accessionNumber?: string }>;

/**
 * retrieving → on_hold when `study` is another patient's by its identifiers; null when it may be analysed
 * (the identifiers agree, or an admin already confirmed this very study). The reason names the identifiers
 * that differ, never their values: timeline reasons travel into logs and other roles' views.
 */
export function holdIfIdentifiersDiffer(c: Case, now: Date, study: HeldStudy): Change | null {
  if (c.status !== 'retrieving') return null;
  if (c.identityConfirmed?.studyInstanceUid === study.studyInstanceUid) return null;
  const check = compareIdentifiers(c.patient, study);
  if (check.agree) return null;
  const hold: IdentityHold = {
    at: now.toISOString(),
    differs: check.differs,
    study: {
      studyInstanceUid: study.studyInstanceUid,
      patientId: study.patientId,
      ...(study.accessionNumber ? { accessionNumber: study.accessionNumber } : {}),
      ...(study.patientName ? { patientName: study.patientName } : {}),
      ...(study.birthDate ? { birthDate: study.birthDate } : {}),
    },
  };
  return {
    next: { ...c, status: 'on_hold', hold },
    reason: `the study's patient identifiers disagree with the order's (${describeDiffers(check.differs)} ${check.differs.length === 1 ? 'differs' : 'differ'}): an admin must confirm the study is this patient's or cancel`,
  };
}

export const ReconcileBody = z.object({
  decision: z.enum(['confirm', 'cancel']),
  /** Why the admin decided: the timeline and the audit trail keep it. */
  reason: z.string().trim().min(1, 'say why (it is kept in the timeline and the audit trail)').max(LIMITS.reasonChars),
});
export type ReconcileBody = z.infer<typeof ReconcileBody>;

/**
 * An admin's decision on an `on_hold` case. `confirm`: the held study is the patient's — back to retrieving
 * with a fresh retrieve job (`resumeVersion`, as a PACS event's resume) that takes that study without holding
 * it again. `cancel`: the order ends here (no analysis, no charge).
 */
export function reconcileCase(c: Case, user: ReviewUser, now: Date, body: ReconcileBody): Change {
  if (c.status !== 'on_hold' || !c.hold) throw new TransitionRefused(`only an on_hold case can be reconciled; this one is ${c.status}`);
  if (body.decision === 'cancel') {
    const cancel = cancelCase(c, user, now, body.reason); // the hold stays on the case: why it never ran
    return { ...cancel, reason: `identifiers not confirmed; ${cancel.reason}` };
  }
  const { hold, ...rest } = c;
  return {
    // The store writes the change as version + 1: the retrieve job is named after it (nextJob).
    next: {
      ...rest,
      status: 'retrieving',
      resumeVersion: c.version + 1,
      identityConfirmed: { studyInstanceUid: hold.study.studyInstanceUid, by: user.id, at: now.toISOString(), reason: body.reason },
    },
    reason: `identifiers confirmed by ${user.id} (${describeDiffers(hold.differs)} differed): ${body.reason}`,
  };
}
