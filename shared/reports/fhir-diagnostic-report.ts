/**
 * FHIR R4 DiagnosticReport for an ILD analysis (docs/design.md §5 "Reports"): one resource with the engine
 * (Device) and one Observation per quantity as contained resources, so it travels as one document with
 * nothing to resolve. References to things that live elsewhere (patient, physician, imaging study,
 * order) are logical references by identifier, since ildflow does not know their ids on the FHIR server.
 *
 * Report code: LOINC 24627-2 "CT Chest" (LOINC/RSNA Radiology Playbook). The report is an analysis of a
 * chest CT; there is no LOINC code for an ILD classification analysis, and contrast-specific codes
 * (29252-4 without contrast, 30745-4 with) would assert something about the acquisition that ildflow
 * does not know. The analysis itself is named in `code.text` and by an ildflow code.
 */
import type { Case, Review } from '../domain/case.js';
import type { EngineResult } from '../engines/contract.js';
import { ReasonsError } from '../errors.js';
import { EXTENT_ORDER } from '../engines/label-classes.js';
import { fibrosisExtentPercent } from './key-quantities.js';
import { addendumLines, signedAddenda } from './addendum-text.js';
import { CATEGORY_TEXT } from './category-text.js';

export { CATEGORY_TEXT };

export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
export const UCUM = 'http://unitsofmeasure.org';
export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
/** ildflow's own code system for measurements with no standard code (no LOINC exists for these). */
export const ILDFLOW_CODES = 'https://ildflow.dev/fhir/CodeSystem/ild-qct';
export const ILDFLOW_CASE_ID = 'https://ildflow.dev/fhir/sid/case-id';

// A minimal subset of the FHIR R4 types this module writes (no FHIR types package is installed).
export type Coding = { system?: string; code?: string; display?: string };
export type CodeableConcept = { coding?: Coding[]; text?: string };
export type Identifier = { system?: string; value: string; type?: CodeableConcept };
export type Reference = { reference?: string; type?: string; identifier?: Identifier; display?: string };
export type Quantity = { value: number; unit: string; system: string; code: string };
export type ReportStatus = 'preliminary' | 'final' | 'amended' | 'appended';

export type Device = {
  resourceType: 'Device';
  id: string;
  deviceName: { name: string; type: 'manufacturer-name' | 'model-name' | 'user-friendly-name' }[];
  manufacturer?: string;
  version: { value: string }[];
  note?: { text: string }[];
};
export type Observation = {
  resourceType: 'Observation';
  id: string;
  status: 'preliminary' | 'final' | 'amended';
  category: CodeableConcept[];
  code: CodeableConcept;
  subject: Reference;
  effectiveDateTime?: string;
  bodySite?: CodeableConcept;
  device: Reference;
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  note?: { text: string }[];
};
export type DiagnosticReport = {
  resourceType: 'DiagnosticReport';
  id: string;
  contained: (Device | Observation)[];
  identifier: Identifier[];
  basedOn: Reference[];
  status: ReportStatus;
  category: CodeableConcept[];
  code: CodeableConcept;
  subject: Reference;
  effectiveDateTime?: string;
  issued: string;
  performer?: Reference[];
  resultsInterpreter?: Reference[];
  result: Reference[];
  imagingStudy: Reference[];
  conclusion: string;
  conclusionCode: CodeableConcept[];
};

/** The case lacks what the requested report status needs (no result, no signed review, rejected). */
export class ReportNotBuildable extends ReasonsError {
  readonly status = 422;
  readonly slug = 'report-not-buildable';
  readonly title = 'The report cannot be built for this case';
}

/** The DiagnosticReport's id for a case: stable, and within FHIR's id rule [A-Za-z0-9-.]{1,64}. */
export function diagnosticReportId(caseId: string): string {
  return `ildflow-${caseId.replace(/[^A-Za-z0-9.-]/g, '-')}`.slice(0, 64);
}


const LUNG: CodeableConcept = { coding: [{ system: SNOMED, code: '39607008', display: 'Lung structure' }] };
const IMAGING_CATEGORY: CodeableConcept = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'imaging', display: 'Imaging' }],
};

export type QuantitySpec = { id: string; display: string; unit: '%' | 'mL' | 'HU'; value: (r: EngineResult) => number };
/** UCUM: percent is '%', millilitre 'mL', Hounsfield unit "[hnsf'U]". */
export const UCUM_UNIT: Readonly<Record<QuantitySpec['unit'], { unit: string; code: string }>> = {
  '%': { unit: '%', code: '%' },
  mL: { unit: 'mL', code: 'mL' },
  HU: { unit: 'HU', code: "[hnsf'U]" },
};
export const QUANTITIES: readonly QuantitySpec[] = [
  { id: 'lung-volume', display: 'Lung volume', unit: 'mL', value: (r) => r.quantities.lungVolumeMl },
  { id: 'mean-lung-density', display: 'Mean lung density', unit: 'HU', value: (r) => r.quantities.meanLungDensityHu },
  { id: 'haa', display: 'High-attenuation area (-600 to -250 HU), % of lung', unit: '%', value: (r) => r.quantities.haaPercent },
  { id: 'laa-950', display: 'Low-attenuation area (< -950 HU), % of lung', unit: '%', value: (r) => r.quantities.laa950Percent },
  {
    id: 'fibrosis-extent',
    display: 'Fibrosis extent (reticulation + honeycombing), % of lung',
    unit: '%',
    value: (r) => fibrosisExtentPercent(r.quantities.extents),
  },
  // One row per class, worded and ordered by the one vocabulary (shared/engines/label-classes.ts).
  ...EXTENT_ORDER.map((c): QuantitySpec => ({ id: c.extentId, display: `${c.label} extent, % of lung`, unit: '%', value: (r) => r.quantities.extents[c.key] })),
];

function practitioner(signer: Review['signer']): Reference {
  return { type: 'Practitioner', identifier: { system: NPI_SYSTEM, value: signer.npi }, display: signer.name };
}

function interpreters(review: Review): Reference[] {
  const signers = [review.signer, ...signedAddenda(review).map((a) => a.by)];
  return signers.filter((s, i) => signers.findIndex((o) => o.npi === s.npi) === i).map(practitioner);
}

function calendarDate(text: string | undefined): string | undefined {
  const m = text ? /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(text.trim()) : null;
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

export type BuildDiagnosticReportOptions = Readonly<{
  status: 'preliminary' | 'final';
  now: Date;
  /** The MRN's identifier system at this hospital (e.g. an OID URI); without it only the MR type is sent. */
  patientIdentifierSystem?: string;
}>;

/**
 * The DiagnosticReport for a case.
 * - preliminary: the engine's result before review; no performer or interpreter, the category is the engine's.
 * - final: needs a signed, non-rejected review; the category is the physician's; performer and
 *   resultsInterpreter are the signer (by NPI). After an addendum the status is `appended` (text only)
 *   or `amended` (the addendum changed the decision), as FHIR R4's report-status codes define.
 * Throws `ReportNotBuildable` when the case lacks what the status needs.
 */
export function buildDiagnosticReport(caseData: Case, opts: BuildDiagnosticReportOptions): DiagnosticReport {
  const { result, source, review, patient, order } = caseData;
  const reasons: string[] = [];
  if (!result) reasons.push('the case has no engine result');
  if (!source) reasons.push('the case has no source series');
  const final = opts.status === 'final';
  if (final && !review) reasons.push('a final report needs a signed review');
  const lastDecision = review?.addenda.findLast((a) => a.decision)?.decision ?? review?.decision;
  if (final && lastDecision === 'reject') reasons.push('the physician rejected the result: there is no final report');
  if (reasons.length > 0 || !result || !source) throw new ReportNotBuildable(reasons);

  let status: ReportStatus = opts.status;
  if (final && review && review.addenda.length > 0)
    status = review.addenda.some((a) => a.decision && a.decision !== review.decision) ? 'amended' : 'appended';
  const observationStatus: Observation['status'] =
    status === 'preliminary' ? 'preliminary' : status === 'final' ? 'final' : 'amended';

  const subject: Reference = {
    type: 'Patient',
    identifier: {
      ...(opts.patientIdentifierSystem ? { system: opts.patientIdentifierSystem } : {}),
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
      value: patient.id,
    },
  };
  const effectiveDateTime = calendarDate(source.acquisitionDate ?? source.studyDate);
  const device: Device = {
    resourceType: 'Device',
    id: 'engine',
    deviceName: [{ name: result.engine.name, type: 'user-friendly-name' }],
    manufacturer: result.engine.vendor,
    version: [{ value: result.engine.version }],
    note: [
      {
        text:
          result.engine.regulatory.status === 'cleared'
            ? `Cleared device${result.engine.regulatory.authorization ? ` (${result.engine.regulatory.authorization})` : ''}`
            : 'Research use only; not a cleared medical device',
      },
    ],
  };
  const deviceRef: Reference = { reference: '#engine' };
  const base = {
    resourceType: 'Observation' as const,
    status: observationStatus,
    category: [IMAGING_CATEGORY],
    subject,
    device: deviceRef,
    ...(effectiveDateTime ? { effectiveDateTime } : {}),
  };

  const quantityObservations: Observation[] = QUANTITIES.map((q) => ({
    ...base,
    id: `obs-${q.id}`,
    code: { coding: [{ system: ILDFLOW_CODES, code: q.id, display: q.display }], text: q.display },
    bodySite: LUNG,
    valueQuantity: { value: q.value(result), system: UCUM, ...UCUM_UNIT[q.unit] },
  }));

  const category = final && review ? review.classification.category : result.classification.category;
  const categoryConcept: CodeableConcept = {
    coding: [{ system: ILDFLOW_CODES, code: `ct-pattern-${category}`, display: CATEGORY_TEXT[category] }],
    text: CATEGORY_TEXT[category],
  };
  const categoryObservation: Observation = {
    ...base,
    id: 'obs-ct-pattern',
    code: {
      coding: [{ system: ILDFLOW_CODES, code: 'ct-pattern', display: 'CT pattern (ATS/ERS/JRS/ALAT 2018 UIP guideline)' }],
      text: 'CT pattern (ATS/ERS/JRS/ALAT 2018 UIP guideline)',
    },
    bodySite: LUNG,
    valueCodeableConcept: categoryConcept,
    note: (final && review ? review.classification.rationale : result.classification.rationale).map((text) => ({ text })),
  };
  const observations = [categoryObservation, ...quantityObservations];

  const q = result.quantities;
  // Who changed the decision by addendum is named, never folded into the first signer's name.
  const lastChange = review ? signedAddenda(review).at(-1) : undefined;
  const who =
    final && review
      ? `Reviewed and ${review.decision === 'amend' ? 'amended' : 'accepted'} by ${review.signer.name}${lastChange ? `; ${lastChange.decision === 'amend' ? 'amended' : lastChange.decision === 'accept' ? 'accepted' : 'changed'} by addendum by ${lastChange.by.name} at ${lastChange.at}` : ''}`
      : 'Preliminary, not yet reviewed by a physician';
  const conclusion = [
    `${CATEGORY_TEXT[category]}.`,
    `Fibrosis extent ${fibrosisExtentPercent(q.extents)}% of lung (honeycombing ${q.extents.honeycombing}%), lung volume ${q.lungVolumeMl} mL.`,
    `${who}.`,
    ...(final && review?.comment ? [review.comment] : []),
    ...(final && review ? review.addenda.flatMap(addendumLines) : []),
  ].join(' ');

  return {
    resourceType: 'DiagnosticReport',
    id: diagnosticReportId(caseData.id),
    contained: [device, ...observations],
    identifier: [{ system: ILDFLOW_CASE_ID, value: caseData.id }],
    basedOn: [
      {
        type: 'ServiceRequest',
        identifier: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PLAC' }] }, value: order.id },
      },
    ],
    status,
    category: [
      {
        coding: [
          { system: LOINC, code: 'LP29684-5', display: 'Radiology' },
          { system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'RAD', display: 'Radiology' },
        ],
      },
    ],
    code: {
      coding: [{ system: LOINC, code: '24627-2', display: 'CT Chest' }],
      text: 'Quantitative chest CT analysis for interstitial lung disease classification',
    },
    subject,
    ...(effectiveDateTime ? { effectiveDateTime } : {}),
    issued: opts.now.toISOString(),
    // An addendum that changed the decision is an interpretation of its own: its signer interprets too.
    ...(final && review ? { performer: [practitioner(review.signer)], resultsInterpreter: interpreters(review) } : {}),
    result: observations.map((o) => ({ reference: `#${o.id}` })),
    imagingStudy: [{ type: 'ImagingStudy', identifier: { system: 'urn:dicom:uid', value: `urn:oid:${source.studyInstanceUid}` } }],
    conclusion,
    conclusionCode: [categoryConcept],
  };
}

