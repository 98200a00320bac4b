import { describe, expect, it } from 'vitest';
import type { EngineRequirements } from '../engines/contract.js';
import { candidateStudies, isLungKernel, selectSeries } from './select-series.js';
import type { SeriesSummary, StudySummary } from './source.js';

const REQ: EngineRequirements = {
  modality: 'CT',
  maxSliceThicknessMm: 3,
  minCoverageMm: 150,
  minSlices: 30,
  maxPixelSpacingMm: 1,
  maxSpacingVariation: 0.1,
};

const series = (uid: string, over: Partial<SeriesSummary> = {}): SeriesSummary => ({
  studyInstanceUid: '1.2.3',
  seriesInstanceUid: uid,
  modality: 'CT',
  instanceCount: 240,
  imageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
  sliceThicknessMm: 1.25,
  ...over,
});

describe('selectSeries', () => {
  it('picks the 1.25 mm lung series over a localizer and a 5 mm soft-tissue series', () => {
    const choice = selectSeries(
      [
        series('1.1', { imageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'], instanceCount: 2, sliceThicknessMm: undefined }),
        series('1.2', { sliceThicknessMm: 5, convolutionKernel: 'STANDARD', instanceCount: 60 }),
        series('1.3', { sliceThicknessMm: 1.25, convolutionKernel: 'LUNG' }),
      ],
      REQ,
    );
    expect(choice.chosen?.seriesInstanceUid).toBe('1.3');
    const reasons = Object.fromEntries(choice.rejected.map((r) => [r.seriesInstanceUid, r.reasons.join('; ')]));
    expect(reasons['1.1']).toMatch(/localizer/);
    expect(reasons['1.2']).toMatch(/slice thickness 5 mm > 3 mm/);
  });

  it('prefers a lung kernel between series of the same thickness', () => {
    const choice = selectSeries([series('2.1', { convolutionKernel: 'B30f' }), series('2.2', { convolutionKernel: 'B70f' })], REQ);
    expect(choice.chosen?.seriesInstanceUid).toBe('2.2');
    expect(choice.rejected[0]?.reasons[0]).toMatch(/preferred/);
  });

  it.each([
    [{ modality: 'MR' }, /modality MR is not CT/],
    [{ imageType: ['DERIVED', 'SECONDARY', 'AXIAL'] }, /derived/],
    [{ imageType: ['ORIGINAL', 'PRIMARY', 'CORONAL'] }, /not axial/],
    [{ seriesDescription: 'Dose Report' }, /dose report/],
    [{ instanceCount: 12 }, /12 images < 30/],
  ] as const)('rejects %o', (over, reason) => {
    const choice = selectSeries([series('3.1', over as Partial<SeriesSummary>)], REQ);
    expect(choice.chosen).toBeNull();
    expect(choice.rejected[0]?.reasons.join('; ')).toMatch(reason);
  });

  it.each([
    ['LUNG', true],
    ['B70f', true],
    ['Br64', true],
    ['YB', true],
    ['FC52', true],
    ['STANDARD', false],
    ['B30f', false],
    [undefined, false],
  ])('isLungKernel(%s) → %s', (k, ok) => expect(isLungKernel(k)).toBe(ok));
});

describe('candidateStudies', () => {
  const study = (uid: string, over: Partial<StudySummary> = {}): StudySummary => ({
    studyInstanceUid: uid,
    patientId: 'MRN-1',
    modalitiesInStudy: ['CT'],
    studyDate: '20260101',
    ...over,
  });
  const q = { patientId: 'MRN-1', orderedAt: '2026-11-27T09:00:00Z' };

  it('orders the patient’s CT studies most recent first and drops later or non-CT ones', () => {
    const { candidates, reasons } = candidateStudies(
      [study('1', { studyDate: '20250101' }), study('2', { studyDate: '20260601' }), study('3', { studyDate: '20261201' }), study('4', { modalitiesInStudy: ['MR'] })],
      q,
    );
    expect(candidates.map((s) => s.studyInstanceUid)).toEqual(['2', '1']);
    expect(reasons.join('\n')).toMatch(/after the order/);
    expect(reasons.join('\n')).toMatch(/has no CT/);
  });

  it('refuses a named study that belongs to another patient', () => {
    const { candidates, reasons, namedStudyOfAnotherPatient } = candidateStudies([study('9', { patientId: 'MRN-2', accessionNumber: 'A9' })], { ...q, requested: { accessionNumber: 'A9' } });
    expect(candidates).toEqual([]);
    expect(reasons).toContain('the named study belongs to another patient');
    expect(namedStudyOfAnotherPatient).toBe(true); // what the retrieve worker decides on: waiting will not help
  });

  it('does not call a named study missing from the PACS another patient’s', () => {
    expect(candidateStudies([], { ...q, requested: { accessionNumber: 'A9' } }).namedStudyOfAnotherPatient).toBe(false);
  });
});
