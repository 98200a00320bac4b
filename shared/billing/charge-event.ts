/**
 * The charge event: one per analysed study, with the documentation a claim needs (docs/design.md §5
 * "Billing"). Built here as pure data; the billing worker persists it in the outbox exactly once and
 * the outputs (REST feed, HL7 DFT^P03, FHIR ChargeItem, webhook) render it.
 *
 * PHI: the billing system needs the patient's identity, so the event carries it, but only what a claim
 * needs: patient {id, name, birthDate, sex} and coverage {payer, memberId, abn}. Never log an event.
 */
import { z } from 'zod';
import { Category } from '../engines/contract.js';
import { Payer, type Case, type Review, type ReviewDecision } from '../domain/case.js';
import { isValidNpi } from '../codes/npi.js';
import { ChargeNotBuildable } from './errors.js';
import { calendarDateOf, toCalendarDate } from './dates.js';
import { ILD_CODES, selectCodes, type BillingMode, type SelectedLine } from './select-codes.js';
import { liabilityConflicts, selectModifiers } from './modifiers.js';
import { advisoriesFor, type PayerAdvisoryTable } from './payer-advisories.js';
import { checkDiagnoses } from './icd10-billable.js';
import { diagnosticReportId } from '../reports/fhir-diagnostic-report.js';
import { fibrosisExtentPercent } from '../reports/key-quantities.js';

export const CHARGE_EVENT_SCHEMA = 'ildflow.charge-event/1' as const;

const IsoDate = z.iso.date();
const IsoDateTime = z.iso.datetime({ offset: true });
const Npi = z.string().refine(isValidNpi, 'not a valid NPI');
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex SHA-256');

export const ChargeLine = z.object({
  code: z.enum(ILD_CODES),
  units: z.number().int().min(1).max(1),
  /** In claim order; two characters each (CPT or HCPCS Level II). */
  modifiers: z.array(z.string().regex(/^[0-9A-Z]{2}$/)).max(4),
  description: z.string().min(1),
  component: z.enum(['global', 'technical', 'professional']),
  notes: z.array(z.string()),
});
export type ChargeLine = z.infer<typeof ChargeLine>;

const Documentation = z.object({
  order: z.object({
    id: z.string().min(1),
    orderingProvider: z.object({ npi: Npi, name: z.string().min(1) }),
    indications: z.array(z.string()).min(1),
  }),
  sourceStudy: z.object({
    accessionNumber: z.string().optional(),
    studyInstanceUid: z.string().min(1),
    seriesInstanceUid: z.string().min(1),
    acquisitionDate: IsoDate,
    sliceCount: z.number().int().positive(),
    sliceThicknessMm: z.number().positive().optional(),
  }),
  engine: z.object({
    id: z.string().min(1),
    name: z.string().min(1),
    version: z.string().min(1),
    regulatoryStatus: z.enum(['research', 'cleared']),
    authorization: z.string().optional(),
  }),
  result: z.object({
    /** The category as signed by the physician (an amend may differ from the engine's). */
    category: Category,
    engineCategory: Category,
    quantities: z.object({
      /** Reticulation + honeycombing, % of lung volume (see `fibrosisExtentPercent`). */
      fibrosisExtentPercent: z.number().min(0).max(100),
      honeycombingPercent: z.number().min(0).max(100),
      haaPercent: z.number().min(0).max(100),
      laa950Percent: z.number().min(0).max(100),
      lungVolumeMl: z.number().nonnegative(),
    }),
  }),
  review: z.object({
    decision: z.enum(['accept', 'amend']),
    physician: z.object({ name: z.string().min(1), npi: Npi }),
    attestation: z.string().min(1),
    signedAt: IsoDateTime,
    /** The physician's reason for 52/22: the documentation those modifiers require. */
    serviceModifier: z.object({ code: z.enum(['52', '22']), reason: z.string().min(1) }).optional(),
  }),
  reports: z.object({
    srSopInstanceUid: z.string().optional(),
    pdfSha256: Sha256.optional(),
    fhirDiagnosticReportId: z.string().optional(),
  }),
  dates: z.object({
    ctAcquired: IsoDate,
    analysisPerformed: IsoDateTime,
    signed: IsoDateTime,
    /** For 0877T (and every code of the family here): the date the analysis was performed. */
    dateOfService: IsoDate,
  }),
});

export const ChargeEvent = z
  .object({
    schema: z.literal(CHARGE_EVENT_SCHEMA),
    /** Deterministic: `chg-<caseId>-<codes>` or `rev-<caseId>-<codes>`; the billing system dedupes on it. */
    eventId: z.string().regex(/^(chg|rev)-.+$/),
    kind: z.enum(['charge', 'reversal']),
    /** HL7 v2 FT1-6 transaction type (table 0017): CG charge, CD credit. */
    transactionType: z.enum(['CG', 'CD']),
    /** A reversal names the charge it credits, and why. */
    reverses: z.string().optional(),
    reversalReason: z.string().optional(),
    caseId: z.string().min(1),
    mode: z.enum(['global', 'split']),
    patient: z.object({
      id: z.string().min(1),
      name: z.string().min(1),
      birthDate: IsoDate,
      sex: z.enum(['F', 'M', 'O', 'U']),
    }),
    // ABN status travels too: HL7 FT1-27 and the GA/GZ audit need it.
    coverage: z.object({
      payer: Payer,
      memberId: z.string().optional(),
      abn: z.object({ signed: z.boolean(), signedAt: IsoDate.optional() }).optional(),
    }),
    payer: Payer,
    lines: z.array(ChargeLine).min(1),
    advisories: z.array(z.string()),
    denialExpected: z.boolean(),
    /** ICD-10-CM, billable (checked by icd10-billable.ts), in claim order; at most 12 (837P). */
    diagnoses: z.array(z.string()).min(1).max(12),
    documentation: Documentation,
    createdAt: IsoDateTime,
  })
  .superRefine((e, ctx) => {
    const charge = e.kind === 'charge';
    if (e.transactionType !== (charge ? 'CG' : 'CD'))
      ctx.addIssue({ code: 'custom', path: ['transactionType'], message: `${e.kind} must be ${charge ? 'CG' : 'CD'}` });
    if (!e.eventId.startsWith(charge ? 'chg-' : 'rev-'))
      ctx.addIssue({ code: 'custom', path: ['eventId'], message: `a ${e.kind} id starts with ${charge ? 'chg-' : 'rev-'}` });
    if (!charge && (!e.reverses || !e.reversalReason))
      ctx.addIssue({ code: 'custom', path: ['reverses'], message: 'a reversal names the charge it credits and why' });
    if (charge && (e.reverses || e.reversalReason))
      ctx.addIssue({ code: 'custom', path: ['reverses'], message: 'only a reversal credits another event' });
    if (e.payer !== e.coverage.payer)
      ctx.addIssue({ code: 'custom', path: ['payer'], message: 'payer and coverage.payer differ' });
    e.lines.forEach((l, i) => {
      for (const message of liabilityConflicts(l.modifiers))
        ctx.addIssue({ code: 'custom', path: ['lines', i, 'modifiers'], message });
    });
  });
export type ChargeEvent = z.infer<typeof ChargeEvent>;

/** The stable event id: the same case and codes always give the same id, across retries and workers. */
export function chargeEventId(kind: ChargeEvent['kind'], caseId: string, codes: readonly string[]): string {
  return `${kind === 'charge' ? 'chg' : 'rev'}-${caseId}-${codes.join('-')}`;
}

/**
 * The decision in force: the last addendum that changed the decision, else the signed one. An addendum
 * that turns the result into a rejection withdraws the charge (reversal).
 */
export function effectiveDecision(review: Review): ReviewDecision {
  for (let i = review.addenda.length - 1; i >= 0; i--) {
    const d = review.addenda[i]?.decision;
    if (d) return d;
  }
  return review.decision;
}

export type BuildChargeOptions = Readonly<{
  mode: BillingMode;
  now: Date;
  advisoryTable?: PayerAdvisoryTable;
  /**
   * IANA time zone of the performing facility, for the date of service. Without it, dates are read in
   * the offset each timestamp was written with (engine timings are usually UTC).
   */
  timeZone?: string;
  /**
   * Report references known to the caller. `Case` has no SR SOP Instance UID, so the report worker must
   * pass it here; the PDF hash and FHIR id otherwise come from the case's artifacts.
   */
  reports?: Readonly<{ srSopInstanceUid?: string; pdfSha256?: string; fhirDiagnosticReportId?: string }>;
}>;

function latestArtifact(c: Case, mediaType: string) {
  return c.artifacts.filter((a) => a.mediaType === mediaType).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
}

/**
 * Builds the charge for a signed case. Throws `ChargeNotBuildable` listing every missing or
 * contradictory piece (no review, rejected, no source or result, series mismatch, bad dates or diagnoses).
 */
export function buildChargeEvent(caseData: Case, opts: BuildChargeOptions): ChargeEvent {
  const reasons: string[] = [];
  const { review, source, result, order, patient, coverage } = caseData;

  if (!review) reasons.push('the case has no signed review');
  const decision = review ? effectiveDecision(review) : undefined;
  if (decision === 'reject') reasons.push('the physician rejected the result: no charge');
  if (review && review.attestation !== true) reasons.push('the review carries no attestation');
  if (review && !isValidNpi(review.signer.npi)) reasons.push(`the signer's NPI "${review.signer.npi}" is not valid`);
  if (!source) reasons.push('the case has no source series');
  if (!result) reasons.push('the case has no engine result');
  if (source && result && source.seriesInstanceUid !== result.input.seriesInstanceUid)
    reasons.push('the engine result is for another series than the case source');
  if (review && result && (review.shown.engineId !== result.engine.id || review.shown.engineVersion !== result.engine.version))
    reasons.push('the physician signed a result from another engine or version than the one on the case');

  const ctAcquired = toCalendarDate(source?.acquisitionDate ?? source?.studyDate);
  if (source && !ctAcquired) reasons.push('the source series has no readable acquisition or study date');
  const analysisPerformed = result?.timings.finishedAt;
  const dateOfService = analysisPerformed ? calendarDateOf(analysisPerformed, opts.timeZone) : undefined;
  if (result && !dateOfService) reasons.push(`the analysis time "${analysisPerformed}" is not an ISO date-time`);

  const dx = checkDiagnoses(order.indications);
  reasons.push(...dx.problems.map((p) => `diagnosis: ${p}`));

  let selected: SelectedLine[] = [];
  if (ctAcquired) {
    try {
      selected = selectCodes({ mode: opts.mode, ctAcquiredDate: ctAcquired, encounterDate: order.encounterDate, orderedAt: order.orderedAt });
    } catch (err) {
      if (!(err instanceof ChargeNotBuildable)) throw err;
      reasons.push(...err.reasons);
    }
  }

  if (reasons.length > 0 || !review || !source || !result || !ctAcquired || !dateOfService || !analysisPerformed)
    throw new ChargeNotBuildable(reasons);

  const advice = advisoriesFor(coverage, opts.advisoryTable);
  const advisories = [...advice.advisories];
  if (dx.unverified.length > 0)
    advisories.push(`Diagnoses not in ildflow's billable table, check them in the billing system: ${dx.unverified.join(', ')}`);
  if (result.engine.regulatory.status === 'research')
    advisories.push(`Engine ${result.engine.name} ${result.engine.version} is research use only, not a cleared device.`);

  const lines: ChargeLine[] = selected.map((l) => {
    const m = selectModifiers({
      payer: coverage.payer,
      abn: coverage.abn,
      denialExpected: advice.denialExpected,
      serviceModifier: review.serviceModifier,
      component: l.component,
      dateOfService,
    });
    return { code: l.code, units: l.units, modifiers: m.modifiers, description: l.description, component: l.component, notes: [...l.notes, ...m.notes] };
  });

  const pdf = latestArtifact(caseData, 'application/pdf');
  const fhir = latestArtifact(caseData, 'application/fhir+json');
  const reports = {
    srSopInstanceUid: opts.reports?.srSopInstanceUid,
    pdfSha256: opts.reports?.pdfSha256 ?? pdf?.sha256,
    fhirDiagnosticReportId: opts.reports?.fhirDiagnosticReportId ?? (fhir ? diagnosticReportId(caseData.id) : undefined),
  };

  const q = result.quantities;
  return ChargeEvent.parse({
    schema: CHARGE_EVENT_SCHEMA,
    eventId: chargeEventId('charge', caseData.id, lines.map((l) => l.code)),
    kind: 'charge',
    transactionType: 'CG',
    caseId: caseData.id,
    mode: opts.mode,
    patient: { id: patient.id, name: patient.name, birthDate: patient.birthDate, sex: patient.sex },
    coverage: { payer: coverage.payer, memberId: coverage.memberId, abn: coverage.abn },
    payer: coverage.payer,
    lines,
    advisories,
    denialExpected: advice.denialExpected,
    diagnoses: [...order.indications],
    documentation: {
      order: { id: order.id, orderingProvider: { ...order.orderingProvider }, indications: [...order.indications] },
      sourceStudy: {
        accessionNumber: source.accessionNumber,
        studyInstanceUid: source.studyInstanceUid,
        seriesInstanceUid: source.seriesInstanceUid,
        acquisitionDate: ctAcquired,
        sliceCount: source.sliceCount,
        sliceThicknessMm: source.sliceThicknessMm,
      },
      engine: {
        id: result.engine.id,
        name: result.engine.name,
        version: result.engine.version,
        regulatoryStatus: result.engine.regulatory.status,
        authorization: result.engine.regulatory.authorization,
      },
      result: {
        category: review.classification.category,
        engineCategory: result.classification.category,
        quantities: {
          fibrosisExtentPercent: fibrosisExtentPercent(q.extents),
          honeycombingPercent: q.extents.honeycombing,
          haaPercent: q.haaPercent,
          laa950Percent: q.laa950Percent,
          lungVolumeMl: q.lungVolumeMl,
        },
      },
      review: {
        decision,
        physician: { name: review.signer.name, npi: review.signer.npi },
        attestation: review.attestationText,
        signedAt: review.signedAt,
        serviceModifier: review.serviceModifier,
      },
      reports,
      dates: { ctAcquired, analysisPerformed, signed: review.signedAt, dateOfService },
    },
    createdAt: opts.now.toISOString(),
  });
}

/**
 * The credit for a charge, when an addendum turns the result into a rejection: the same lines, units
 * and date of service as the charge, sent as FT1-6 `CD` so the billing system nets them out.
 */
export function buildReversalEvent(charge: ChargeEvent, opts: Readonly<{ now: Date; reason: string }>): ChargeEvent {
  const reasons: string[] = [];
  if (charge.kind !== 'charge') reasons.push(`${charge.eventId} is a ${charge.kind}, not a charge: only a charge is reversed`);
  if (!opts.reason.trim()) reasons.push('a reversal needs a reason');
  if (reasons.length > 0) throw new ChargeNotBuildable(reasons);
  return ChargeEvent.parse({
    ...structuredClone(charge),
    eventId: chargeEventId('reversal', charge.caseId, charge.lines.map((l) => l.code)),
    kind: 'reversal',
    transactionType: 'CD',
    reverses: charge.eventId,
    reversalReason: opts.reason.trim(),
    createdAt: opts.now.toISOString(),
  });
}
