/**
 * Which prior study and which series ildflow analyses (docs/design.md §5, issue "PACS integration"). Pure
 * functions: the retrieve worker gathers summaries, these decide, and the reasons go on the case.
 */
import type { EngineRequirements } from '../engines/contract.js';
import type { SeriesSummary, StudySummary } from './source.js';

export type SeriesChoice = Readonly<{
  chosen: SeriesSummary | null;
  why: string;
  rejected: { seriesInstanceUid: string; reasons: string[] }[];
}>;

/**
 * Kernels that reconstruct lung detail (sharp, high spatial frequency). Vendor names differ: Siemens
 * B60f–B80f / Br59–Br69 / I70f, GE LUNG / BONE / BONEPLUS, Philips YA–YD / L, Canon FC50–FC56 / FC8x.
 */
const LUNG_KERNEL = /LUNG|BONE|SHARP|DETAIL|^B[6-8]\d|^BR[5-6]\d|^I[5-8]\d|^Y[A-D]$|^L$|^FC5\d|^FC8\d/i;

export function isLungKernel(kernel: string | undefined): boolean {
  return kernel !== undefined && LUNG_KERNEL.test(kernel.trim());
}

/** Reasons a series cannot be analysed; empty when it can (before its pixels are checked). */
export function seriesProblems(s: SeriesSummary, req: EngineRequirements): string[] {
  const reasons: string[] = [];
  if (s.modality !== req.modality) reasons.push(`modality ${s.modality} is not ${req.modality}`);
  const type = (s.imageType ?? []).map((t) => t.toUpperCase());
  // Image Type (0008,0008), PS3.3 C.7.6.1.1.2 and C.8.2.1.1.1: value 1 ORIGINAL/DERIVED, value 3 AXIAL/LOCALIZER.
  if (type.includes('LOCALIZER')) reasons.push('localizer (scout) image');
  else if (type[0] === 'DERIVED') reasons.push(`derived images (${type.join('\\')}), e.g. MPR or MIP`);
  else if (type.length >= 3 && type[2] !== 'AXIAL') reasons.push(`not axial (${type[2]})`);
  if (/DOSE|SCREEN ?SAVE|REPORT/i.test(s.seriesDescription ?? '')) reasons.push('dose report or screen capture');
  if (s.sliceThicknessMm !== undefined && s.sliceThicknessMm > req.maxSliceThicknessMm)
    reasons.push(`slice thickness ${s.sliceThicknessMm} mm > ${req.maxSliceThicknessMm} mm allowed`);
  if (s.instanceCount < req.minSlices) reasons.push(`${s.instanceCount} images < ${req.minSlices} required`);
  return reasons;
}

/** Thinnest slices within the engine's limit, then a lung kernel, then the most images (coverage). */
export function selectSeries(series: readonly SeriesSummary[], req: EngineRequirements): SeriesChoice {
  const rejected: SeriesChoice['rejected'] = [];
  const eligible: SeriesSummary[] = [];
  for (const s of series) {
    const reasons = seriesProblems(s, req);
    if (reasons.length) rejected.push({ seriesInstanceUid: s.seriesInstanceUid, reasons });
    else eligible.push(s);
  }
  eligible.sort(
    (a, b) =>
      (a.sliceThicknessMm ?? req.maxSliceThicknessMm) - (b.sliceThicknessMm ?? req.maxSliceThicknessMm) ||
      Number(isLungKernel(b.convolutionKernel)) - Number(isLungKernel(a.convolutionKernel)) ||
      b.instanceCount - a.instanceCount,
  );
  const [chosen, ...others] = eligible;
  for (const o of others)
    rejected.push({ seriesInstanceUid: o.seriesInstanceUid, reasons: [`eligible, but ${describe(chosen!)} is preferred`] });
  return {
    chosen: chosen ?? null,
    why: chosen ? `chosen: ${describe(chosen)} (thinnest eligible slices, lung kernel preferred, then coverage)` : 'no eligible series',
    rejected,
  };
}

function describe(s: SeriesSummary): string {
  const parts = [s.seriesDescription ?? s.seriesInstanceUid, `${s.instanceCount} images`];
  if (s.sliceThicknessMm !== undefined) parts.push(`${s.sliceThicknessMm} mm`);
  if (s.convolutionKernel) parts.push(`kernel ${s.convolutionKernel}`);
  return parts.join(', ');
}

/**
 * Candidate prior studies, most recent first: studies with CT, acquired on or before the order date.
 * A named study (UID or accession) is the only candidate, and must be the patient's.
 */
export function candidateStudies(
  studies: readonly StudySummary[],
  q: Readonly<{ patientId: string; orderedAt: string; requested?: { studyInstanceUid?: string; accessionNumber?: string } }>,
): { candidates: StudySummary[]; reasons: string[]; namedStudyOfAnotherPatient: boolean } {
  const reasons: string[] = [];
  let namedStudyOfAnotherPatient = false;
  const orderDate = q.orderedAt.slice(0, 10).replace(/-/g, '');
  let pool = studies.filter((s) => s.patientId === q.patientId);
  if (q.requested) {
    const named = pool.filter(
      (s) =>
        (!q.requested!.studyInstanceUid || s.studyInstanceUid === q.requested!.studyInstanceUid) &&
        (!q.requested!.accessionNumber || s.accessionNumber === q.requested!.accessionNumber),
    );
    const elsewhere = studies.some(
      (s) => s.patientId !== q.patientId && (s.studyInstanceUid === q.requested!.studyInstanceUid || s.accessionNumber === q.requested!.accessionNumber),
    );
    if (!named.length) reasons.push(elsewhere ? 'the named study belongs to another patient' : 'the named study is not in the PACS');
    namedStudyOfAnotherPatient = !named.length && elsewhere;
    pool = named;
  }
  const candidates = pool
    .filter((s) => {
      if (!s.modalitiesInStudy.includes('CT')) {
        reasons.push(`study ${s.accessionNumber ?? s.studyInstanceUid} has no CT (${s.modalitiesInStudy.join(', ') || 'no modality'})`);
        return false;
      }
      // DA is YYYYMMDD (PS3.5 §6.2). A study dated after the order is not a *prior* CT.
      if (s.studyDate && s.studyDate > orderDate) {
        reasons.push(`study ${s.accessionNumber ?? s.studyInstanceUid} was acquired after the order`);
        return false;
      }
      return true;
    })
    .sort((a, b) => (b.studyDate ?? '').localeCompare(a.studyDate ?? ''));
  if (!studies.length) reasons.push('no study of this patient in the PACS');
  return { candidates, reasons, namedStudyOfAnotherPatient };
}
