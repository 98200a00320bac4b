/**
 * The ILD analysis as a DICOM Comprehensive 3D SR (SOP Class 1.2.840.10008.5.1.4.1.1.88.34) whose content
 * is a TID 1500 "Imaging Measurement Report", the way the IHE AI Results (AIR) profile encodes an AI
 * result (docs/design.md §5 "Reports"):
 *
 *   CONTAINER (126000, DCM, "Imaging Measurement Report")                 TID 1500
 *     HAS CONCEPT MOD  Language of Content = en-US                        TID 1204
 *     HAS OBS CONTEXT  Observer Type = Device; Device Observer UID, Name,   TID 1002/1004
 *                      Manufacturer, Model Name, Version (the engine); and, once verified, the
 *                      signing physician as a Person observer              TID 1003
 *     HAS CONCEPT MOD  Procedure Reported = CT of chest
 *     CONTAINS Image Library > Image Library Group > IMAGE (key images)    TID 1600
 *     CONTAINS Imaging Measurements > Measurement Group                    TID 1501
 *                      Tracking Identifier/UID, Finding Site = lung, NUMs with UCUM units (TID 300)
 *                    > one Measurement Group per class of the label map     TID 1411
 *                      Tracking Identifier/UID, Finding = the class, Finding Site = lung,
 *                      Referenced Segment (the SEG's segment), Source series for segmentation,
 *                      Volume (mL) and share of lung (%) — when the engine's label map was stored
 *     CONTAINS Qualitative Evaluations                                     TID 1500 row 13
 *                      CODE CT pattern = the category (coded), TEXT rationale, decision
 *
 * Unverified (PRELIMINARY, PARTIAL, UNVERIFIED) after analysis; after signature a new instance, VERIFIED
 * and COMPLETE, with the signer as Verifying Observer (NPI as the identification code) and the
 * unverified one as its predecessor (PS3.3 C.17.2.3). The engine is recorded in Contributing Equipment
 * with purpose (109102, DCM, "Processing Equipment"): CID 7005 has no "Processing Algorithm" code, and
 * this is the code IHE AIR uses for the algorithm that produced the content.
 */
import type { Case } from '../../domain/case.js';
import type { Category, EngineResult } from '../../engines/contract.js';
import { addendumLines } from '../addendum-text.js';
import { CATEGORY_TEXT } from '../category-text.js';
import { EXTENT_ORDER, LABEL_CLASSES } from '../../engines/label-classes.js';
import { REPORT_ARTIFACTS } from '../report-refs.js';
import { fibrosisExtentPercent } from '../key-quantities.js';
import { derivedUid, reportUids } from '../dicom-uids.js';
import type { StudyContext } from '../study-context.js';
import { code, codeItem, container, dcm, image, num, sct, text, ucum, uidref, type Code, type Item } from './content-items.js';
import { da, dtOf, tm } from './dicom-time.js';
import { writePart10 } from '../../dicom/write-part10.js';

export const COMPREHENSIVE_3D_SR = '1.2.840.10008.5.1.4.1.1.88.34';
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
/** Private coding scheme for what no standard code names (PS3.3 8.2: "99" prefix = local). */
export const ILDFLOW_SCHEME = '99ILDFLOW';
/** NPI's HL7 OID (2.16.840.1.113883.4.6), declared in CodingSchemeIdentificationSequence. */
const NPI_SCHEME = 'NPI';

const local = (value: string, meaning: string): Code => ({ value, scheme: ILDFLOW_SCHEME, meaning });

/** The category as a code (short code values, ≤ 16 characters). */
export const CATEGORY_CODE: Readonly<Record<Category, Code>> = {
  uip: local('ILD-UIP', CATEGORY_TEXT.uip),
  probable_uip: local('ILD-PROBUIP', CATEGORY_TEXT.probable_uip),
  indeterminate: local('ILD-INDET', CATEGORY_TEXT.indeterminate),
  alternative_diagnosis: local('ILD-ALTDX', 'CT features most consistent with alternative dx'),
  no_fibrosis: local('ILD-NOFIB', CATEGORY_TEXT.no_fibrosis),
};
const CT_PATTERN = local('CT-PATTERN', 'CT pattern (ATS/ERS/JRS/ALAT 2018 UIP)');

const PERCENT = ucum('%', 'percent');
const ML = ucum('mL', 'milliliter');
const HU = ucum("[hnsf'U]", 'Hounsfield unit');
const NO_UNITS = ucum('1', 'no units');

type Measurement = Readonly<{ code: Code; unit: Code; value: (r: EngineResult) => number }>;
/** The measurements, in the order of the PDF and FHIR reports. */
export const SR_MEASUREMENTS: readonly Measurement[] = [
  { code: local('LUNG-VOL', 'Lung volume'), unit: ML, value: (r) => r.quantities.lungVolumeMl },
  { code: local('MLD', 'Mean lung density'), unit: HU, value: (r) => r.quantities.meanLungDensityHu },
  { code: local('HIST-SKEW', 'Lung density histogram skewness'), unit: NO_UNITS, value: (r) => r.quantities.skewness },
  { code: local('HIST-KURT', 'Lung density histogram kurtosis'), unit: NO_UNITS, value: (r) => r.quantities.kurtosis },
  { code: local('HAA', 'High-attenuation area -600 to -250 HU'), unit: PERCENT, value: (r) => r.quantities.haaPercent },
  { code: local('LAA950', 'Low-attenuation area below -950 HU'), unit: PERCENT, value: (r) => r.quantities.laa950Percent },
  { code: local('FIB-EXT', 'Fibrosis extent'), unit: PERCENT, value: (r) => fibrosisExtentPercent(r.quantities.extents) },
  // One NUM per class, worded and ordered by the one vocabulary (shared/engines/label-classes.ts).
  ...EXTENT_ORDER.map((c): Measurement => ({ code: local(c.srExtentCode, `${c.label} extent`), unit: PERCENT, value: (r) => r.quantities.extents[c.key] })),
  { code: local('FIB-UPPER', 'Fibrosis extent, upper zone'), unit: PERCENT, value: (r) => r.quantities.zones.upper.fibrosisPercent },
  { code: local('FIB-MIDDLE', 'Fibrosis extent, middle zone'), unit: PERCENT, value: (r) => r.quantities.zones.middle.fibrosisPercent },
  { code: local('FIB-LOWER', 'Fibrosis extent, lower zone'), unit: PERCENT, value: (r) => r.quantities.zones.lower.fibrosisPercent },
  { code: local('SUBPL-FIB', 'Subpleural fraction of fibrosis'), unit: NO_UNITS, value: (r) => r.quantities.subpleuralFibrosisFraction },
];

export type SrPhase = 'preliminary' | 'final';

export type BuildSrOptions = Readonly<{
  phase: SrPhase;
  now: Date;
  study: StudyContext;
  /** SOP Class UID of each key image by SOP Instance UID; CT Image Storage when not known. */
  imageSopClasses?: ReadonlyMap<string, string>;
  institutionName?: string;
}>;

export type BuiltDicom = Readonly<{ bytes: Uint8Array; sopClassUid: string; sopInstanceUid: string; seriesInstanceUid: string; studyInstanceUid: string }>;

export class SrNotBuildable extends Error {}

function pname(rel: 'HAS OBS CONTEXT', name: Code, value: string): Item {
  return { RelationshipType: rel, ValueType: 'PNAME', ConceptNameCodeSequence: [codeItem(name)], PersonName: value };
}

/** The DICOM PN of a display name ("Ada Reyes, MD" → "Reyes^Ada^^^MD"); already-caret names pass through. */
export function personName(name: string): string {
  if (name.includes('^')) return name;
  const [main, ...suffix] = name.split(',').map((s) => s.trim());
  const parts = (main ?? '').split(/\s+/).filter(Boolean);
  const family = parts.pop() ?? '';
  return [family, parts.join(' '), '', '', suffix.join(' ')].join('^').replace(/\^+$/, '');
}

export function buildIldSr(c: Case, opts: BuildSrOptions): BuiltDicom {
  const { result, source, review } = c;
  if (!result || !source) throw new SrNotBuildable(`case ${c.id} has no engine result or source series`);
  const verified = opts.phase === 'final';
  if (verified && !review) throw new SrNotBuildable(`case ${c.id} has no signed review to verify the SR`);
  const uids = reportUids(c.id, c.attempt);
  const u = (part: string) => derivedUid('ildflow', c.id, c.attempt, part);
  const sopInstanceUid = uids.srInstance(opts.phase);
  const now = opts.now;
  const engine = result.engine;
  const deviceUid = derivedUid('ildflow', 'engine', engine.id, engine.version);
  const sopClassOf = (uid: string) => opts.imageSopClasses?.get(uid) ?? CT_IMAGE_STORAGE;

  // ── Observation context (TID 1001): the engine as a device; once verified, the signer as a person.
  const observers: Item[] = [
    code('HAS OBS CONTEXT', dcm('121005', 'Observer Type'), dcm('121007', 'Device')),
    uidref('HAS OBS CONTEXT', dcm('121012', 'Device Observer UID'), deviceUid),
    text('HAS OBS CONTEXT', dcm('121013', 'Device Observer Name'), engine.name),
    text('HAS OBS CONTEXT', dcm('121014', 'Device Observer Manufacturer'), engine.vendor),
    text('HAS OBS CONTEXT', dcm('121015', 'Device Observer Model Name'), `${engine.id} ${engine.version}`),
  ];
  if (verified && review)
    observers.push(
      code('HAS OBS CONTEXT', dcm('121005', 'Observer Type'), dcm('121006', 'Person')),
      pname('HAS OBS CONTEXT', dcm('121008', 'Person Observer Name'), personName(review.signer.name)),
    );

  const keyImages = result.keyImages;
  const imageLibrary = container('CONTAINS', dcm('111028', 'Image Library'), [
    container('CONTAINS', dcm('126200', 'Image Library Group'), keyImages.map((k) => image('CONTAINS', null, sopClassOf(k.sopInstanceUid), k.sopInstanceUid))),
  ]);

  const measurementGroup = container('CONTAINS', dcm('125007', 'Measurement Group'), [
    text('HAS OBS CONTEXT', dcm('112039', 'Tracking Identifier'), 'ILD quantitative CT analysis'),
    uidref('HAS OBS CONTEXT', dcm('112040', 'Tracking Unique Identifier'), uids.trackingUid),
    code('HAS CONCEPT MOD', sct('363698007', 'Finding Site'), sct('39607008', 'Lung structure')),
    ...SR_MEASUREMENTS.map((m) => num('CONTAINS', m.code, m.value(result), m.unit)),
  ], '1501');

  const labelMap = labelMapOf(c);
  const classGroups = labelMap ? classMeasurementGroups(result, labelMap, source.seriesInstanceUid, (cls) => u(`class-${cls}`)) : [];

  const category = verified && review ? review.classification.category : result.classification.category;
  const rationale = verified && review ? review.classification.rationale : result.classification.rationale;
  const comment = dcm('121106', 'Comment');
  const qualitative: Item[] = [
    code('CONTAINS', CT_PATTERN, CATEGORY_CODE[category]),
    ...rationale.map((r) => text('CONTAINS', comment, r)),
    text('CONTAINS', comment, regulatoryText(result)),
    // The case records whether the engine's label map is what the per-class groups and overlays show.
    ...(c.labelMap && c.labelMap.status !== 'stored' ? [text('CONTAINS', comment, c.labelMap.reason)] : []),
  ];
  if (verified && review) {
    const amended = review.decision === 'amend' ? ` (engine: ${CATEGORY_TEXT[result.classification.category]})` : '';
    qualitative.push(
      text('CONTAINS', comment, `Physician decision: ${review.decision}${amended}; signed by ${review.signer.name}, NPI ${review.signer.npi}, at ${review.signedAt}.`),
      text('CONTAINS', comment, review.attestationText),
      ...(review.comment ? [text('CONTAINS', comment, review.comment)] : []),
      // Each addendum in its own words, an amending one with its own signer, NPI, time and attestation.
      ...review.addenda.flatMap(addendumLines).map((line) => text('CONTAINS', comment, line)),
    );
  } else {
    qualitative.push(text('CONTAINS', comment, 'Preliminary: not yet reviewed by a physician.'));
  }

  const root = container(
    null,
    dcm('126000', 'Imaging Measurement Report'),
    [
      code('HAS CONCEPT MOD', dcm('121049', 'Language of Content Item and Descendants'), { value: 'en-US', scheme: 'RFC5646', meaning: 'English (United States)' }),
      ...observers,
      code('HAS CONCEPT MOD', dcm('121058', 'Procedure reported'), sct('169069000', 'Computed tomography of chest')),
      imageLibrary,
      container('CONTAINS', dcm('126010', 'Imaging Measurements'), [measurementGroup, ...classGroups]),
      container('CONTAINS', { value: 'C0034375', scheme: 'UMLS', meaning: 'Qualitative Evaluations' }, qualitative),
    ],
    '1500',
  );

  const s = opts.study;
  // PS3.3 C.17.2.3: every object the content references — the key images and the SEG.
  const evidenceSeries = [
    ...(keyImages.length
      ? [{
          SeriesInstanceUID: source.seriesInstanceUid,
          ReferencedSOPSequence: keyImages.map((k) => ({ ReferencedSOPClassUID: sopClassOf(k.sopInstanceUid), ReferencedSOPInstanceUID: k.sopInstanceUid })),
        }]
      : []),
    ...(labelMap && classGroups.length
      ? [{ SeriesInstanceUID: labelMap.seriesInstanceUid, ReferencedSOPSequence: [{ ReferencedSOPClassUID: labelMap.sopClassUid, ReferencedSOPInstanceUID: labelMap.sopInstanceUid }] }]
      : []),
  ];
  const evidence = evidenceSeries.length ? [{ StudyInstanceUID: source.studyInstanceUid, ReferencedSeriesSequence: evidenceSeries }] : [];
  const dataset: Record<string, unknown> & { SOPClassUID: string; SOPInstanceUID: string } = {
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: da(now),
    InstanceCreationTime: tm(now),
    SOPClassUID: COMPREHENSIVE_3D_SR,
    SOPInstanceUID: sopInstanceUid,
    StudyDate: s.studyDate,
    ContentDate: da(now),
    StudyTime: s.studyTime,
    ContentTime: tm(now),
    AccessionNumber: s.accessionNumber,
    Modality: 'SR',
    Manufacturer: 'ildflow',
    ...(opts.institutionName ?? s.institutionName ? { InstitutionName: opts.institutionName ?? s.institutionName } : {}),
    ReferringPhysicianName: s.referringPhysicianName,
    TimezoneOffsetFromUTC: '+0000',
    CodingSchemeIdentificationSequence: [
      { CodingSchemeDesignator: ILDFLOW_SCHEME, CodingSchemeName: 'ildflow ILD quantitative CT codes', CodingSchemeResponsibleOrganization: 'ildflow' },
      { CodingSchemeDesignator: NPI_SCHEME, CodingSchemeUID: '2.16.840.1.113883.4.6', CodingSchemeName: 'US National Provider Identifier' },
    ],
    ...(s.studyDescription ? { StudyDescription: s.studyDescription } : {}),
    SeriesDescription: 'ILD analysis SR (ildflow)',
    ManufacturerModelName: 'ildflow',
    ReferencedPerformedProcedureStepSequence: [],
    PatientName: s.patientName,
    PatientID: s.patientId,
    ...(s.issuerOfPatientId ? { IssuerOfPatientID: s.issuerOfPatientId } : {}),
    PatientBirthDate: s.patientBirthDate,
    PatientSex: s.patientSex,
    SoftwareVersions: engine.version,
    ContributingEquipmentSequence: [{
      Manufacturer: engine.vendor,
      ManufacturerModelName: engine.name,
      SoftwareVersions: engine.version,
      ContributionDateTime: dtOf(result.timings.finishedAt, now),
      ContributionDescription: `ILD classification by ${engine.name} ${engine.version}; ${regulatoryText(result)}`.slice(0, 64),
      PurposeOfReferenceCodeSequence: [codeItem(dcm('109102', 'Processing Equipment'))],
    }],
    StudyInstanceUID: s.studyInstanceUid,
    SeriesInstanceUID: uids.srSeries,
    StudyID: s.studyId,
    SeriesNumber: 9901,
    InstanceNumber: verified ? 2 : 1,
    ...root,
    PreliminaryFlag: verified ? 'FINAL' : 'PRELIMINARY',
    CompletionFlag: verified ? 'COMPLETE' : 'PARTIAL',
    VerificationFlag: verified ? 'VERIFIED' : 'UNVERIFIED',
    ...(verified && review
      ? {
          VerifyingObserverSequence: [{
            VerifyingObserverName: personName(review.signer.name),
            VerifyingObserverIdentificationCodeSequence: [codeItem({ value: review.signer.npi, scheme: NPI_SCHEME, meaning: review.signer.name })],
            // Type 1 (PS3.3 C.17.2): the institution the physician signs for; the CT's institution when not configured.
            VerifyingOrganization: opts.institutionName ?? s.institutionName ?? 'Not recorded',
            VerificationDateTime: dtOf(review.signedAt, now),
          }],
          PredecessorDocumentsSequence: [{
            StudyInstanceUID: s.studyInstanceUid,
            ReferencedSeriesSequence: [{
              SeriesInstanceUID: uids.srSeries,
              ReferencedSOPSequence: [{ ReferencedSOPClassUID: COMPREHENSIVE_3D_SR, ReferencedSOPInstanceUID: uids.srInstance('preliminary') }],
            }],
          }],
        }
      : {}),
    PerformedProcedureCodeSequence: [codeItem(sct('169069000', 'Computed tomography of chest'))],
    ...(evidence.length ? { CurrentRequestedProcedureEvidenceSequence: evidence } : {}),
  };
  return { bytes: writePart10(dataset), sopClassUid: COMPREHENSIVE_3D_SR, sopInstanceUid, seriesInstanceUid: uids.srSeries, studyInstanceUid: s.studyInstanceUid };
}

type StoredLabelMap = Readonly<{ sopClassUid: string; sopInstanceUid: string; seriesInstanceUid: string; segments: readonly Readonly<{ number: number; key: string }>[] }>;

/** The engine's label map when it was stored with the case (the SEG artifact and its segments). */
function labelMapOf(c: Case): StoredLabelMap | undefined {
  const dicom = c.artifacts.find((a) => a.name === REPORT_ARTIFACTS.labelMap)?.dicom;
  return c.labelMap?.status === 'stored' && dicom ? { ...dicom, segments: c.labelMap.segments } : undefined;
}

const SHARE_OF_LUNG = local('LUNG-SHARE', 'Share of lung volume');

/**
 * TID 1411 "Volumetric ROI Measurements", one group per segment of the SEG: the class as the Finding
 * (row 3), the segment as Referenced Segment (row 8, an IMAGE item whose ReferencedSOPSequence names the
 * segment number, PS3.3 C.18.3.1) with its source series (row 9), and the engine's figures for the class:
 * its volume (TID 1419 with (118565006, SCT, "Volume")) and its share of the lung.
 */
function classMeasurementGroups(r: EngineResult, map: StoredLabelMap, sourceSeriesUid: string, trackingUid: (key: string) => string): Item[] {
  return map.segments.flatMap((seg) => {
    const cls = LABEL_CLASSES.find((x) => x.key === seg.key);
    if (!cls) return [];
    const pct = r.quantities.extents[cls.key];
    const segment = image('CONTAINS', dcm('121191', 'Referenced Segment'), map.sopClassUid, map.sopInstanceUid);
    (segment.ReferencedSOPSequence as Item[])[0]!.ReferencedSegmentNumber = seg.number;
    return [container('CONTAINS', dcm('125007', 'Measurement Group'), [
      text('HAS OBS CONTEXT', dcm('112039', 'Tracking Identifier'), cls.label),
      uidref('HAS OBS CONTEXT', dcm('112040', 'Tracking Unique Identifier'), trackingUid(cls.key)),
      code('CONTAINS', dcm('121071', 'Finding'), cls.type),
      code('HAS CONCEPT MOD', sct('363698007', 'Finding Site'), sct('39607008', 'Lung structure')),
      segment,
      uidref('CONTAINS', dcm('121232', 'Source series for segmentation'), sourceSeriesUid),
      num('CONTAINS', sct('118565006', 'Volume'), (r.quantities.lungVolumeMl * pct) / 100, ML),
      num('CONTAINS', SHARE_OF_LUNG, pct, PERCENT),
    ], '1411')];
  });
}

export function regulatoryText(r: EngineResult): string {
  return r.engine.regulatory.status === 'cleared'
    ? `cleared device${r.engine.regulatory.authorization ? ` (${r.engine.regulatory.authorization})` : ''}`
    : 'research use only, not a cleared medical device';
}

