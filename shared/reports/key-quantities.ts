/**
 * Derived quantities shared by the reports and the charge documentation, so both say the same number.
 */
import type { EngineResult } from '../engines/contract.js';

/**
 * Fibrosis extent: reticulation + honeycombing, % of lung volume, to one decimal — the fibrotic
 * patterns of the 2018 ATS/ERS/JRS/ALAT guideline. Ground glass is left out: it may be inflammation.
 */
export function fibrosisExtentPercent(extents: Pick<EngineResult['quantities']['extents'], 'reticulation' | 'honeycombing'>): number {
  return Math.round((extents.reticulation + extents.honeycombing) * 10) / 10;
}
