/**
 * Public types of the scanner-like phantom (see generate-scanner-phantom.ts) and the label codes shared by
 * its modules. Kept apart so that the small modules can import them without importing the generator.
 */
import type { Category } from '../../../shared/engines/contract.js';
import type { PhantomPattern } from '../../../shared/phantom/generate-phantom.js';

/** Two families of drawing methods, so that an engine tuned on one is tested on the other. */
export type ScannerFamily = 'fibre' | 'voronoi';

export type ScannerPhantomOptions = {
  dir: string;
  family: ScannerFamily;
  pattern: PhantomPattern;
  seed: number;
  /** In-plane pixel size, mm (default 0.7). */
  pixelSpacingMm?: number;
  /** Image matrix (rows = columns). Default: ceil(360 / pixelSpacingMm) rounded up to a multiple of 16. */
  matrix?: number;
  /** Nominal slice thickness, mm (default 1): width of the box in the slice sensitivity profile. */
  sliceThicknessMm?: number;
  /** Distance between slice centres, mm. Default: the thickness, but never below 0.6. */
  sliceSpacingMm?: number;
  /** In-plane Gaussian PSF sigma, mm (default 0.6). */
  psfSigmaMm?: number;
  /**
   * Edge enhancement of a sharp (lung, bone) reconstruction kernel, 0–1 (default 0: a plain Gaussian).
   * The PSF becomes (1 + a)·G(σ) − a·G(2.5 σ): its MTF rises above 1 at mid frequencies and edges
   * overshoot and undershoot, as sharp kernels do.
   */
  edgeEnhancement?: number;
  /** Image noise SD in HU (default 30), the same everywhere in the reconstructed field. */
  noiseHu?: number;
  /** int16: stored = HU + 1024 signed; uint16: stored = HU + 1024 clipped at 0. Both use intercept −1024. */
  pixelRepresentation?: 'int16' | 'uint16';
  /** Linear scale of the thorax (1 ≈ 4.6 L of lung). Without it the seed picks a 3–6 L adult. */
  lungScale?: number;
  /** Step of the sub-slices that integrate the slice profile, mm (default 0.3). Coarser = faster. */
  subSliceMm?: number;
  /** In-plane sub-samples per pixel edge where partial volume matters (default 3 → 3×3). */
  superSample?: number;
  onProgress?: (done: number, total: number) => void;
  /** Called with each slice's centre labels (LABEL values), cranial first; the array is reused. */
  onSliceLabels?: (slice: number, labels: Uint8Array) => void;
};

export type ZoneTruth = { fibrosisPercent: number };

export type ScannerPhantomTruth = {
  schema: 'ildflow.scanner-phantom-truth/1';
  family: ScannerFamily;
  pattern: PhantomPattern;
  expectedCategory: Category;
  seed: number;
  physics: {
    psfSigmaMm: number; noiseHu: number; sliceThicknessMm: number; sliceSpacingMm: number;
    pixelSpacingMm: number; pixelRepresentation: 'int16' | 'uint16'; edgeEnhancement?: number;
  };
  size: { rows: number; columns: number; slices: number };
  lungVoxels: number;
  lungVolumeMl: number;
  /** Left = patient left (LPS +x, image right). */
  lungs: { left: { volumeMl: number }; right: { volumeMl: number } };
  meanLungDensityHu: number;
  /** % of lung voxels whose final HU is in [−600, −250]. */
  haaPercent: number;
  /** % of lung voxels whose final HU is below −950. */
  laa950Percent: number;
  /** % of lung voxels per class; sums to 100. */
  extents: { normal: number; groundGlass: number; reticulation: number; honeycombing: number; emphysema: number; consolidation: number };
  /** Thirds of the slices that contain lung, cranial first; fibrosis = reticulation + honeycombing. */
  zones: { upper: ZoneTruth; middle: ZoneTruth; lower: ZoneTruth };
  tractionBronchiectasis: boolean;
  /** First and last slice index (cranial = 0) that contain lung. */
  lungSlices: { first: number; last: number };
};

/** Label of the analytic model at a point. Values ≥ LUNG_BASE are lung (the truth's denominator). */
export const LABEL = {
  outside: 0,
  body: 1,
  /** Trachea and main bronchi (lumen and wall): not lung in the truth. */
  centralAirway: 2,
  table: 3,
  normal: 10,
  groundGlass: 11,
  reticulation: 12,
  honeycombing: 13,
  emphysema: 14,
  consolidation: 15,
} as const;
export const LUNG_BASE = 10;

/** What the model says about one point; one instance is reused so the hot loop allocates nothing. */
export type Sample = {
  hu: number;
  label: number;
  /** 1 right lung, 2 left lung, 0 elsewhere. */
  side: number;
  /** Distance (mm) from the point to the nearest surface of a thin object (fibre, wall, small vessel);
   *  +Infinity when none is close. The renderer supersamples pixels where this is below the pixel size. */
  clear: number;
};
