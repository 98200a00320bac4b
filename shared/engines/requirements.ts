/**
 * Checks a series against an engine's declared requirements (docs/design.md §5 "The engine contract"). Pure:
 * the analyze worker calls it before the engine runs, and a non-empty answer makes the case `ineligible`
 * with these reasons, which are shown to physicians and must read as plain statements of fact.
 */
import type { EngineRequirements } from './contract.js';

export type RequirementSummary = Readonly<{
  modality: string;
  sliceCount: number;
  sliceThicknessMm: number;
  pixelSpacingMm: readonly [number, number];
  coverageMm: number;
  spacingVariation: number;
}>;

/** Measured values print with at most two decimals; a hair's breadth over a limit is not a failure. */
const EPSILON = 1e-6;

const mm = (v: number): string => `${Number(v.toFixed(2))} mm`;

/** @returns human reasons the series fails the requirements; empty when it meets them all. */
export function checkRequirements(s: RequirementSummary, r: EngineRequirements): string[] {
  const reasons: string[] = [];
  if (s.modality !== r.modality) reasons.push(`modality ${s.modality || '(none)'} is not ${r.modality}`);
  if (s.sliceThicknessMm > r.maxSliceThicknessMm + EPSILON) {
    reasons.push(`slice thickness ${mm(s.sliceThicknessMm)} > ${mm(r.maxSliceThicknessMm)} allowed`);
  }
  if (s.sliceCount < r.minSlices) reasons.push(`${s.sliceCount} slices < ${r.minSlices} required`);
  if (s.coverageMm + EPSILON < r.minCoverageMm) {
    reasons.push(`${s.sliceCount} slices cover ${mm(s.coverageMm)} < ${mm(r.minCoverageMm)} required`);
  }
  const ps = Math.max(s.pixelSpacingMm[0], s.pixelSpacingMm[1]);
  if (ps > r.maxPixelSpacingMm + EPSILON) reasons.push(`pixel spacing ${mm(ps)} > ${mm(r.maxPixelSpacingMm)} allowed`);
  if (s.spacingVariation > r.maxSpacingVariation + EPSILON) {
    reasons.push(
      `spacing between slices varies by ${Math.round(s.spacingVariation * 100)}% > ${Math.round(r.maxSpacingVariation * 100)}% allowed (gaps or missing slices)`,
    );
  }
  return reasons;
}
