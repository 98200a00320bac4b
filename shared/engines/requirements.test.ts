import { describe, expect, it } from 'vitest';
import type { EngineRequirements } from './contract.js';
import { checkRequirements, type RequirementSummary } from './requirements.js';

const req: EngineRequirements = {
  modality: 'CT', maxSliceThicknessMm: 3, minCoverageMm: 150, minSlices: 50, maxPixelSpacingMm: 1, maxSpacingVariation: 0.1,
};
const ok: RequirementSummary = { modality: 'CT', sliceCount: 240, sliceThicknessMm: 1.25, pixelSpacingMm: [0.7, 0.7], coverageMm: 300, spacingVariation: 0 };

describe('checkRequirements', () => {
  it('accepts a thin-section chest CT', () => {
    expect(checkRequirements(ok, req)).toEqual([]);
  });

  it.each<[string, Partial<RequirementSummary>, string[]]>([
    ['thick slices', { sliceThicknessMm: 5 }, ['slice thickness 5 mm > 3 mm allowed']],
    ['short coverage', { sliceCount: 40, coverageMm: 50 }, ['40 slices < 50 required', '40 slices cover 50 mm < 150 mm required']],
    ['not CT', { modality: 'MR' }, ['modality MR is not CT']],
    ['coarse pixels', { pixelSpacingMm: [0.8, 1.4] }, ['pixel spacing 1.4 mm > 1 mm allowed']],
    ['irregular spacing', { spacingVariation: 1 }, ['spacing between slices varies by 100% > 10% allowed (gaps or missing slices)']],
    ['exactly at the limits', { sliceThicknessMm: 3, coverageMm: 150, sliceCount: 50, pixelSpacingMm: [1, 1], spacingVariation: 0.1 }, []],
    ['rounding just past a limit', { coverageMm: 149.9999999 }, []],
    ['empty modality', { modality: '' }, ['modality (none) is not CT']],
    ['fractional values print with two decimals', { sliceThicknessMm: 3.333333 }, ['slice thickness 3.33 mm > 3 mm allowed']],
  ])('%s', (_name, change, reasons) => {
    expect(checkRequirements({ ...ok, ...change }, req)).toEqual(reasons);
  });

  it('lists every failure at once', () => {
    expect(checkRequirements({ modality: 'MR', sliceCount: 10, sliceThicknessMm: 6, pixelSpacingMm: [2, 2], coverageMm: 60, spacingVariation: 0.5 }, req)).toHaveLength(6);
  });
});
