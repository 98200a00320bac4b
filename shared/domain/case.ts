/**
 * The case: one order for one ILD analysis (CPT 0877T), from order to charge. One zod schema per boundary
 * type; the TypeScript types derive from them (docs/style.md §3).
 */
import { z } from 'zod';
import { EngineResult, Category } from '../engines/contract.js';
import { isValidNpi } from '../codes/npi.js';
import { isIcd10CmFormat } from '../codes/icd10.js';
import type { DiskWait } from '../lifecycle/disk-wait.js';

/** DICOM UIDs: digits and dots, at most 64 characters (PS3.5 §9.1). */
export const DicomUid = z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'not a DICOM UID').max(64);

export const CASE_STATUSES = [
  'queued',
  'awaiting_study',
  'retrieving',
  'on_hold',
  'analyzing',
  'awaiting_review',
  'in_review',
  'signed',
  'billed',
  'rejected',
  'ineligible',
  'failed',
  'cancelled',
  'reversed',
] as const;
export const CaseStatus = z.enum(CASE_STATUSES);
export type CaseStatus = z.infer<typeof CaseStatus>;

export const Priority = z.enum(['stat', 'urgent', 'routine']);
export type Priority = z.infer<typeof Priority>;
/** Review order: stat before urgent before routine (docs/design.md §5, GET /v1/review/queue). */
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { stat: 0, urgent: 1, routine: 2 };

export const Payer = z.enum(['medicare', 'aetna', 'bcbs', 'cigna', 'uhc', 'self-pay', 'other']);
export type Payer = z.infer<typeof Payer>;

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
const IsoDateTime = z.string().datetime({ offset: true });
const Npi = z.string().refine(isValidNpi, 'not a valid NPI (10 digits, Luhn check with prefix 80840)');
const Text = (max: number) => z.string().trim().min(1).max(max);

/**
 * Characters DICOM matching gives a meaning to — `*` and `?` are wildcards (PS3.4 C.2.2.2.4), `\` separates
 * values (PS3.5 §6.4) — with no escape, and control characters (not in the LO/SH repertoire, PS3.5 §6.2).
 * A patient id or accession number holding one would widen the PACS query to other patients' studies.
 */
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
export const NOT_EXACT = /[*?\\\x00-\x1f\x7f]/;
const ExactText = (max: number) => Text(max).refine((v) => !NOT_EXACT.test(v), 'must not contain *, ? or \\ (DICOM wildcard and delimiter characters) or control characters: the PACS is queried with it exactly');

/**
 * Limits of what callers write into a case (docs/review.md, "Limits"). A case document is rewritten whole
 * on every change and read on every list, so nothing a caller adds may grow without bound: longer text is
 * a 400 problem naming the field; one addendum more than `addenda` is a 409.
 */
export const LIMITS = {
  rationaleItems: 20,
  rationaleChars: 500,
  commentChars: 4000,
  addendumChars: 4000,
  addenda: 20,
  reasonChars: 500,
} as const;

export const Order = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'order id: 1-64 letters, digits, dot, dash or underscore'),
  orderedAt: IsoDateTime,
  priority: Priority.default('routine'),
  orderingProvider: z.object({ npi: Npi, name: Text(200) }),
  indications: z
    .array(z.string().refine(isIcd10CmFormat, 'not an ICD-10-CM code (e.g. J84.10)'))
    .min(1, 'at least one ICD-10-CM indication is required')
    .max(12),
  /** Encounter the order belongs to; used to tell a prior CT (0877T) from a concurrent one (0878T). */
  encounterDate: IsoDate.optional(),
});
export type Order = z.infer<typeof Order>;

export const Patient = z.object({
  /** PatientID (LO, PS3.5 §6.2): queried exactly in the PACS. */
  id: ExactText(64),
  /** DICOM Person Name form FAMILY^GIVEN (PS3.5 §6.2.1.1). */
  name: Text(200),
  birthDate: IsoDate,
  sex: z.enum(['F', 'M', 'O', 'U']),
});
export type Patient = z.infer<typeof Patient>;

export const RequestedStudy = z
  .object({ studyInstanceUid: DicomUid.optional(), accessionNumber: ExactText(16).optional() })
  .refine((s) => s.studyInstanceUid || s.accessionNumber, 'name the study by studyInstanceUid or accessionNumber');

export const Coverage = z.object({
  payer: Payer,
  memberId: Text(64).optional(),
  abn: z.object({ signed: z.boolean(), signedAt: IsoDate.optional() }).optional(),
});
export type Coverage = z.infer<typeof Coverage>;

export const CreateCaseBody = z.object({
  order: Order,
  patient: Patient,
  study: RequestedStudy.optional(),
  coverage: Coverage.default({ payer: 'other' }),
});
export type CreateCaseBody = z.infer<typeof CreateCaseBody>;

/** The series ildflow chose and retrieved, with the reasons for the choice. */
export const SourceSeries = z.object({
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  accessionNumber: z.string().optional(),
  studyDate: z.string().optional(),
  acquisitionDate: z.string().optional(),
  modality: z.string(),
  seriesDescription: z.string().optional(),
  sliceCount: z.number().int(),
  sliceThicknessMm: z.number().optional(),
  convolutionKernel: z.string().optional(),
  selection: z.object({ chosen: z.string(), rejected: z.array(z.object({ seriesInstanceUid: z.string(), reasons: z.array(z.string()) })) }),
  retrievedAt: z.string(),
  seriesDir: z.string(),
});
export type SourceSeries = z.infer<typeof SourceSeries>;

export const Classification = z.object({
  category: Category,
  rationale: z.array(z.string().trim().max(LIMITS.rationaleChars)).max(LIMITS.rationaleItems).default([]),
});

export const ReviewDecision = z.enum(['accept', 'amend', 'reject']);
export type ReviewDecision = z.infer<typeof ReviewDecision>;

export const ReviewBody = z
  .object({
    decision: ReviewDecision,
    classification: Classification.optional(),
    comment: z.string().trim().max(LIMITS.commentChars).optional(),
    attestation: z.literal(true, { message: 'the physician must attest (attestation: true)' }),
    /** Modifier 52 (reduced service) or 22 (increased service) only from the physician, with a reason. */
    serviceModifier: z.object({ code: z.enum(['52', '22']), reason: Text(LIMITS.reasonChars) }).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.decision === 'amend' && !b.classification)
      ctx.addIssue({ code: 'custom', path: ['classification'], message: 'amend needs a classification' });
    if (b.decision === 'reject' && !b.comment)
      ctx.addIssue({ code: 'custom', path: ['comment'], message: 'reject needs a comment' });
  });
export type ReviewBody = z.infer<typeof ReviewBody>;

/**
 * An addendum: text, optionally changing the decision. A change of decision (or classification) changes a
 * signed result, so it is a signature of its own (docs/design.md §6): it needs the physician's attestation, and
 * a classification goes only with `amend`.
 */
export const AddendumBody = z
  .object({
    text: Text(LIMITS.addendumChars),
    decision: ReviewDecision.optional(),
    classification: Classification.optional(),
    attestation: z.literal(true, { message: 'the physician must attest (attestation: true)' }).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.decision === 'amend' && !b.classification)
      ctx.addIssue({ code: 'custom', path: ['classification'], message: 'amend needs a classification' });
    if (b.classification && b.decision !== 'amend')
      ctx.addIssue({ code: 'custom', path: ['classification'], message: 'a classification goes with decision: amend' });
    if (b.decision && b.attestation !== true)
      ctx.addIssue({ code: 'custom', path: ['attestation'], message: 'a change of decision is signed: the physician must attest (attestation: true)' });
  });
export type AddendumBody = z.infer<typeof AddendumBody>;

export type Signer = Readonly<{ id: string; name: string; npi: string }>;

export type Claim = Readonly<{ userId: string; userName: string; claimedAt: string; expiresAt: string }>;

export type Review = {
  decision: ReviewDecision;
  classification: { category: Category; rationale: string[] };
  comment?: string;
  attestation: true;
  attestationText: string;
  signer: Signer;
  signedAt: string;
  /** What the physician was shown when signing: the engine result's fingerprint. */
  shown: { engineId: string; engineVersion: string; resultSha256: string };
  serviceModifier?: { code: '52' | '22'; reason: string };
  /**
   * Text addenda carry their author (an admin's has no NPI). One that changes the decision is a signature:
   * `by` is the radiologist (with NPI) who signed it, with its attestation; `signer` above stays the first.
   */
  addenda: {
    at: string;
    by: Signer;
    text: string;
    decision?: ReviewDecision;
    classification?: { category: Category; rationale: string[] };
    attestation?: true;
    attestationText?: string;
  }[];
};

export type TimelineEntry = Readonly<{
  at: string;
  actor: string;
  from: CaseStatus | null;
  to: CaseStatus;
  reason: string;
}>;

export type Failure = Readonly<{ stage: string; reason: string; at: string; attempts: number }>;

export type ArtifactRef = Readonly<{
  name: string;
  mediaType: string;
  sha256: string;
  bytes: number;
  createdAt: string;
  /** A DICOM object (SR, Encapsulated PDF): its identity, which billing documents (the SR's SOP Instance UID). */
  dicom?: Readonly<{ sopClassUid: string; sopInstanceUid: string; seriesInstanceUid: string; studyInstanceUid: string }>;
  /** When the PACS accepted it (ImageSource.storeInstances); absent until then. */
  storedToPacsAt?: string;
}>;

/**
 * The engine's label map: `stored` as the artifact `REPORT_ARTIFACTS.labelMap` (a DICOM SEG whose segments are
 * the classes listed), `none` when the engine returned none (no overlay is shown, and the reports say so),
 * `refused` when it did not fit the input series (the reason says why; the result stands without it).
 */
export type LabelMapRecord =
  | Readonly<{ status: 'stored'; sopInstanceUid: string; segments: readonly Readonly<{ number: number; key: string }>[] }>
  | Readonly<{ status: 'none' | 'refused'; reason: string }>;

export type BillingRef = Readonly<{ eventIds: string[]; codes: string[]; billedAt: string; reversalEventIds?: string[] }>;

export type Case = {
  id: string;
  status: CaseStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Bumped by an admin retry so that stage job ids stay deterministic per attempt. */
  attempt: number;
  /**
   * The user who posted the order (an orderer, or an interface with the pacs role): its ordering source
   * (docs/design.md §5). Cases stored before it was recorded get it from their first timeline entry
   * (`legacyOrderer`, written at start-up by `backfillOrderedBy`); one whose creator is unknown has none
   * and belongs to no orderer.
   */
  orderedBy?: string;
  order: Order;
  patient: Patient;
  requestedStudy?: { studyInstanceUid?: string; accessionNumber?: string };
  coverage: Coverage;
  advisories: string[];
  awaitingStudyUntil?: string;
  /**
   * The version at which a PACS event (from `awaiting_study`) or an admin's reconcile (from `on_hold`) last
   * resumed the case in this attempt: its retrieve job is tagged with it (shared/lifecycle/next-job.ts), so
   * the job can be re-created by the same id.
   */
  resumeVersion?: number;
  /**
   * The version at which an admin last retried a signed case's failed final report or billing stage
   * (shared/lifecycle/retry-case.ts): that stage's job is tagged with it, so the retry is a new job that the
   * reconciler re-creates under the same id.
   */
  stageRetryVersion?: number;
  /** Retrieval waits for disk space on the data volume (shared/lifecycle/disk-wait.ts). */
  diskWait?: DiskWait;
  source?: SourceSeries;
  /**
   * The spooled series was purged after retention (shared/lifecycle/spool-retention.ts): the images are in
   * the PACS only. A new retrieval (an admin retry) drops it.
   */
  spool?: Readonly<{ purgedAt: string; bytes: number }>;
  ineligibleReasons?: string[];
  result?: EngineResult;
  /** What became of the engine's label map (docs/design.md §5 "Label maps"); absent for results recorded
   *  before label maps existed. */
  labelMap?: LabelMapRecord;
  claim?: Claim;
  review?: Review;
  artifacts: ArtifactRef[];
  billing?: BillingRef;
  /** The result versions written to the results outbox for the EHR (ORU^R01, docs/ehr.md), by event id. */
  resultEvents?: string[];
  failure?: Failure;
  /** Why the case is `on_hold`: the study's patient identifiers disagree with the order's (docs/pacs.md). */
  hold?: IdentityHold;
  /**
   * An admin confirmed that this study belongs to the order's patient although its identifiers differ
   * (POST /v1/cases/{id}/reconcile): the retrieve stage takes this study without holding it again.
   */
  identityConfirmed?: Readonly<{ studyInstanceUid: string; by: string; at: string; reason: string }>;
};
export type { EngineResult };

/** The patient identifiers compared before analysis (The Joint Commission NPSG.01.01.01). */
export type PatientIdentifier = 'patientId' | 'birthDate' | 'familyName';

/**
 * A case held because its study's identifiers disagree with the order's. The study's values are kept on the
 * case (the record, read through the audited API) for the admin who must decide; logs get only `differs`.
 */
export type IdentityHold = Readonly<{
  at: string;
  differs: readonly PatientIdentifier[];
  study: Readonly<{ studyInstanceUid: string; accessionNumber?: string; patientId: string; patientName?: string; birthDate?: string }>;
}>;
