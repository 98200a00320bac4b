/**
 * Measures the scan in front of the engine (docs/reference-engine.md, "Measure the scan"): the HU of air
 * and of soft tissue, the image noise, the noise left after the engine's denoising box, and the width of
 * the point-spread function from the skin edge. Every threshold of the classification is derived from
 * these numbers, so a smooth kernel, a low dose or a miscalibrated scanner moves the thresholds with it
 * instead of breaking them. Pure; reads a sample of slices only.
 */
import type { Volume } from '../../volume/assemble-volume.js';
import { LABEL } from './body.js';

export type ScanPhysics = Readonly<{
  /** Median HU of outside air (padding excluded). */
  airHu: number;
  /** Mode of the local mean in homogeneous soft tissue (muscle, blood, liver). */
  tissueHu: number;
  /** Standard deviation of single voxels in homogeneous soft tissue. */
  noiseSdHu: number;
  /** Edge-spread σ (mm) at the skin: the scanner's in-plane PSF together with the pixel aperture. */
  psfSigmaMm: number;
  /** A sharp kernel's undershoot beside an edge, as a fraction of the step (0 for a smooth kernel):
   *  the dip of the skin's edge-spread profile below the outside air. */
  edgeUndershoot: number;
  /** Half-widths (voxels) of the denoising box, chosen so the noise left is at most NOISE_TARGET_HU. */
  denoise: { radiusXY: number; radiusZ: number };
  /** Noise SD left after the denoising box, measured the same way. */
  denoisedNoiseSdHu: number;
  /** RMS of the denoised noise through the fine-texture operator (value minus its fine-scale
   *  neighbourhood mean, radius `fineRadiusPx`): the texture that noise alone makes. */
  fineNoiseHu: number;
  fineRadiusPx: number;
  /** Whether each number was measured (false: a default was used and a quality flag says so). */
  measured: { air: boolean; tissue: boolean; noise: boolean; psf: boolean };
}>;

/** Slices sampled for the measurements: enough windows for stable medians, a fraction of the volume. */
const SAMPLE_SLICES = 12;
/** Homogeneity windows: 9 × 9 voxels (≈ 6 mm at 0.7 mm), large enough that correlated noise is sampled. */
const WINDOW_RADIUS = 4;
/** The denoised density must separate structures about 4 SD of noise apart; 20 HU makes the lung/ground
 *  glass step (≥ 150 HU) and the emphysema margin (parenchyma −860 vs −950) clear. */
const NOISE_TARGET_HU = 20;
/**
 * The fine texture (reticulation) is read through the smallest box, ±1 voxel, whatever the noise: the
 * density box widens with the noise to quiet the densities, but a box of ±2 voxels (3.5 mm at 0.7 mm)
 * averages away lines a few millimetres apart, so a noisy reticulation would read as smooth ground glass.
 * Noise through this operator is measured (fineNoiseHu) and subtracted instead.
 */
export const TEXTURE_RADIUS = 1;
/** Largest denoising box: ±3 voxels (≈ 5 mm at 0.7 mm); beyond this the box erases 3 mm cysts. */
const MAX_DENOISE_RADIUS = 3;
/** The smallest honeycomb cysts are 3 mm across (Hansell 2008): no denoising box is wider. */
const MAX_BOX_MM = 3;
/** Denoising along z spans about ±1 mm: thin slices are averaged with their neighbours, thick ones not. */
const DENOISE_Z_MM = 1.5;
/** Soft tissue lies between fat (−100) and bone; its local means are searched in this range. */
const TISSUE_RANGE_HU: readonly [number, number] = [-60, 160];
/** Defaults when a measurement fails (tiny or cropped images): nominal CT values. */
const DEFAULT = { air: -1000, tissue: 40, noise: 30, psf: 0.7 } as const;

export function measureScan(volume: Volume, labels: Uint8Array): ScanPhysics {
  const { width: w, height: h, depth: d, hu } = volume;
  const n = w * h;
  const ps = (volume.pixelSpacingMm[0] + volume.pixelSpacingMm[1]) / 2;
  const slices: number[] = [];
  for (let k = 0; k < SAMPLE_SLICES; k++) slices.push(Math.min(d - 1, Math.floor(((k + 0.5) * d) / SAMPLE_SLICES)));

  // Air: outside voxels above the padding range.
  const air: number[] = [];
  for (const z of slices) {
    const base = z * n;
    for (let i = 0; i < n; i += 7) if (labels[base + i] === LABEL.outside && hu[base + i]! > -1200) air.push(hu[base + i]!);
  }
  // The mode, not the median: the table's shell and the skin's blurred edge skew the outside's tail.
  const airHu = air.length > 100 ? modeOf(air, -1200, -800, 5) : DEFAULT.air;

  const radiusZ = Math.max(0, Math.min(2, Math.floor(DENOISE_Z_MM / 2 / volume.sliceSpacingMm + 0.5)));
  const edge = edgeSpread(volume, labels, slices, airHu);
  const psf = edge?.sigmaPx ?? null;
  const psfMm = (psf ?? DEFAULT.psf / ps) * ps;
  const rF = fineRadiusPx(psfMm, ps);
  const windows = tissueWindows(volume, labels, slices, radiusZ, rF);
  let tissueHu: number = DEFAULT.tissue;
  let noiseSdHu: number = DEFAULT.noise;
  const denoisedSd: number[] = [DEFAULT.noise / 3, DEFAULT.noise / 5, DEFAULT.noise / 7];
  const fineNoise: number[] = [...denoisedSd];
  const ok = windows.means.length > 50;
  if (ok) {
    tissueHu = modeOf(windows.means, TISSUE_RANGE_HU[0], TISSUE_RANGE_HU[1], 5);
    const sel = (arr: number[]): number[] => arr.filter((_, i) => Math.abs(windows.means[i]! - tissueHu) < 40);
    noiseSdHu = median(sel(windows.sds));
    for (let r = 1; r <= MAX_DENOISE_RADIUS; r++) {
      denoisedSd[r - 1] = median(sel(windows.boxSds[r - 1]!));
      fineNoise[r - 1] = median(sel(windows.fineRms[r - 1]!));
    }
  }
  // The box never spans more than the smallest honeycomb cyst (3 mm), whatever the noise: above that the
  // engine would trade the cysts it must see for a quieter image; a noisy scan keeps its noise, and the
  // noise-derived margins of every threshold widen instead.
  const maxRadius = Math.max(1, Math.min(MAX_DENOISE_RADIUS, Math.floor(MAX_BOX_MM / 2 / ps)));
  let radiusXY = 1;
  while (radiusXY < maxRadius && denoisedSd[radiusXY - 1]! > NOISE_TARGET_HU) radiusXY++;
  return {
    airHu: round1(airHu),
    tissueHu: round1(tissueHu),
    noiseSdHu: round1(noiseSdHu),
    psfSigmaMm: Math.round(psfMm * 100) / 100,
    edgeUndershoot: Math.round((edge?.undershoot ?? 0) * 1000) / 1000,
    denoise: { radiusXY, radiusZ },
    denoisedNoiseSdHu: round1(denoisedSd[radiusXY - 1]!),
    fineNoiseHu: round1(fineNoise[TEXTURE_RADIUS - 1]!),
    fineRadiusPx: rF,
    measured: { air: air.length > 100, tissue: ok, noise: ok, psf: psf !== null },
  };
}

type Windows = { means: number[]; sds: number[]; boxSds: number[][]; fineRms: number[][] };

/**
 * Local mean and SD in 9 × 9 windows lying wholly in the body and in the soft-tissue range, plus the SD
 * of the box-denoised values in the same windows for each candidate box radius.
 */
function tissueWindows(volume: Volume, labels: Uint8Array, slices: readonly number[], radiusZ: number, rF: number): Windows {
  const { width: w, height: h, depth: d, hu } = volume;
  const n = w * h;
  const out: Windows = { means: [], sds: [], boxSds: [[], [], []], fineRms: [[], [], []] };
  const R = WINDOW_RADIUS;
  const boxed = Array.from({ length: MAX_DENOISE_RADIUS }, () => new Float32Array(n));
  const local = Array.from({ length: MAX_DENOISE_RADIUS }, () => new Float32Array(n));
  const zsum = new Float32Array(n), tmp = new Float32Array(n);
  for (const z of slices) {
    const base = z * n;
    // Windows lie in the body, so the filters run over the body's rectangle only, grown by their reach
    // (a box of radius r, then the fine neighbourhood rF around it) so no window sees the rectangle's edge.
    const rect = bodyRect(labels, base, w, h, MAX_DENOISE_RADIUS + rF + 1);
    if (!rect) continue;
    // z-averaged slice for the denoised estimates
    let nz = 0;
    for (let y = rect.y0; y <= rect.y1; y++) zsum.fill(0, y * w + rect.x0, y * w + rect.x1 + 1);
    for (let k = Math.max(0, z - radiusZ); k <= Math.min(d - 1, z + radiusZ); k++, nz++) {
      const b = k * n;
      for (let y = rect.y0; y <= rect.y1; y++) for (let i = y * w + rect.x0; i <= y * w + rect.x1; i++) zsum[i]! += hu[b + i]!;
    }
    for (let y = rect.y0; y <= rect.y1; y++) for (let i = y * w + rect.x0; i <= y * w + rect.x1; i++) zsum[i]! /= nz;
    for (let r = 1; r <= MAX_DENOISE_RADIUS; r++) {
      boxMean(zsum, w, rect, r, tmp, boxed[r - 1]!);
      boxMean(boxed[r - 1]!, w, rect, rF, tmp, local[r - 1]!);
    }
    const step = Math.max(2, R);
    for (let y = R + MAX_DENOISE_RADIUS; y < h - R - MAX_DENOISE_RADIUS; y += step) {
      for (let x = R + MAX_DENOISE_RADIUS; x < w - R - MAX_DENOISE_RADIUS; x += step) {
        let s = 0, q = 0, bad = false;
        for (let dy = -R; dy <= R && !bad; dy++) {
          const row = base + (y + dy) * w + x;
          for (let dx = -R; dx <= R; dx++) {
            const v = hu[row + dx]!;
            if (labels[row + dx] !== LABEL.tissue || v < -300 || v > 400) { bad = true; break; }
            s += v; q += v * v;
          }
        }
        if (bad) continue;
        const cnt = (2 * R + 1) ** 2;
        const mean = s / cnt;
        if (mean < TISSUE_RANGE_HU[0] || mean > TISSUE_RANGE_HU[1]) continue;
        out.means.push(mean);
        out.sds.push(Math.sqrt(Math.max(0, (q - s * mean) / (cnt - 1))));
        for (let r = 1; r <= MAX_DENOISE_RADIUS; r++) {
          const b = boxed[r - 1]!, l = local[r - 1]!;
          let bs = 0, bq = 0, fe = 0;
          for (let dy = -R; dy <= R; dy++) {
            const row = (y + dy) * w + x;
            for (let dx = -R; dx <= R; dx++) { const v = b[row + dx]!; bs += v; bq += v * v; fe += (v - l[row + dx]!) ** 2; }
          }
          const bm = bs / cnt;
          out.boxSds[r - 1]!.push(Math.sqrt(Math.max(0, (bq - bs * bm) / (cnt - 1))));
          out.fineRms[r - 1]!.push(Math.sqrt(fe / cnt));
        }
      }
    }
  }
  return out;
}

/** A rectangle of the image, inclusive. */
type Rect = { x0: number; y0: number; x1: number; y1: number };

/**
 * Mean over a (2r+1)² square clipped at the rectangle's edge, for the pixels of `rect` (others untouched),
 * by separable running sums. The sums are exact (the inputs are means of a few integers), so where the
 * square stays inside the rectangle the result does not depend on where the rectangle starts.
 */
function boxMean(src: Float32Array, w: number, rect: Rect, r: number, tmp: Float32Array, out: Float32Array): void {
  const { x0, y0, x1, y1 } = rect;
  for (let y = y0; y <= y1; y++) {
    const o = y * w;
    let s = 0;
    for (let x = x0; x < Math.min(x0 + r, x1 + 1); x++) s += src[o + x]!;
    for (let x = x0; x <= x1; x++) {
      if (x + r <= x1) s += src[o + x + r]!;
      if (x - r - 1 >= x0) s -= src[o + x - r - 1]!;
      tmp[o + x] = s / (Math.min(x1, x + r) - Math.max(x0, x - r) + 1);
    }
  }
  for (let x = x0; x <= x1; x++) {
    let s = 0;
    for (let y = y0; y < Math.min(y0 + r, y1 + 1); y++) s += tmp[y * w + x]!;
    for (let y = y0; y <= y1; y++) {
      if (y + r <= y1) s += tmp[(y + r) * w + x]!;
      if (y - r - 1 >= y0) s -= tmp[(y - r - 1) * w + x]!;
      out[y * w + x] = s / (Math.min(y1, y + r) - Math.max(y0, y - r) + 1);
    }
  }
}

/** The body's bounding rectangle on one slice, grown by `margin` and kept within the image; null if none. */
function bodyRect(labels: Uint8Array, base: number, w: number, h: number, margin: number): Rect | null {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = base + y * w;
    for (let x = 0; x < w; x++) {
      if (labels[row + x] !== LABEL.tissue) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  if (x1 < 0) return null;
  return { x0: Math.max(0, x0 - margin), y0: Math.max(0, y0 - margin), x1: Math.min(w - 1, x1 + margin), y1: Math.min(h - 1, y1 + margin) };
}

/**
 * Edge-spread σ in pixels at the lateral skin edges of the middle rows of the body, where the edge runs
 * along the image columns: profiles across the air → skin step, aligned on their half-way crossing and
 * averaged, then σ = (75 % − 25 % rise distance) / 1.349 (for a Gaussian PSF the 25–75 % width of the
 * error-function edge is 2 × 0.6745 σ). Null when too few clean edges were found.
 */
function edgeSpread(volume: Volume, labels: Uint8Array, slices: readonly number[], airHu: number): { sigmaPx: number; undershoot: number } | null {
  const { width: w, height: h, hu } = volume;
  const n = w * h;
  const HALF = 10; // profile half-length in pixels
  const SUB = 4; // resampling: quarter pixels
  const acc = new Float64Array(2 * HALF * SUB + 1);
  const cnt = new Float64Array(2 * HALF * SUB + 1);
  let profiles = 0;
  for (const z of slices) {
    const base = z * n;
    let y0 = h, y1 = -1;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x += 4) if (labels[base + y * w + x] === LABEL.tissue) { if (y < y0) y0 = y; y1 = y; break; }
    }
    if (y1 < 0) continue;
    const from = Math.floor(y0 + 0.35 * (y1 - y0)), to = Math.ceil(y0 + 0.65 * (y1 - y0));
    for (let y = from; y <= to; y++) {
      const row = base + y * w;
      for (const side of [1, -1] as const) {
        // first tissue pixel from this side
        let x = side === 1 ? 0 : w - 1;
        while (x >= 0 && x < w && labels[row + x] !== LABEL.tissue) x += side;
        if (x - side * (HALF + 2) < 0 || x - side * (HALF + 2) >= w || x + side * (HALF + 2) < 0 || x + side * (HALF + 2) >= w) continue;
        const at = (k: number): number => hu[row + x + side * k]!;
        let lo = 0, hi = 0;
        for (let k = -HALF; k <= -HALF + 3; k++) lo += at(k);
        for (let k = HALF - 3; k <= HALF; k++) hi += at(k);
        lo /= 4; hi /= 4;
        if (hi - lo < 500 || Math.abs(lo - airHu) > 150) continue; // not a clean air → tissue step
        const half = (lo + hi) / 2;
        // sub-pixel crossing of the half level nearest the label edge
        let c = NaN;
        for (let k = -3; k < 3; k++) {
          const a = at(k), b = at(k + 1);
          if (a < half && b >= half) { c = k + (half - a) / (b - a); break; }
        }
        if (!Number.isFinite(c)) continue;
        for (let j = -HALF * SUB; j <= HALF * SUB; j++) {
          const t = c + j / SUB;
          const k = Math.floor(t);
          if (k < -HALF || k + 1 > HALF) continue;
          const f = t - k;
          const v = (at(k) * (1 - f) + at(k + 1) * f - lo) / (hi - lo);
          acc[j + HALF * SUB]! += v;
          cnt[j + HALF * SUB]!++;
        }
        profiles++;
      }
    }
  }
  if (profiles < 20) return null;
  const esf = Array.from(acc, (v, i) => (cnt[i] ? v / cnt[i]! : NaN));
  const cross = (level: number): number => {
    for (let i = 0; i + 1 < esf.length; i++) {
      const a = esf[i]!, b = esf[i + 1]!;
      if (a < level && b >= level) return (i + (level - a) / (b - a)) / SUB;
    }
    return NaN;
  };
  const width = cross(0.75) - cross(0.25);
  if (!(Number.isFinite(width) && width > 0)) return null;
  // The undershoot: the lowest point of the profile within 5 pixels on the air side, below the far air.
  let low = 0;
  for (let i = (HALF - 5) * SUB; i < HALF * SUB; i++) if (Number.isFinite(esf[i]!)) low = Math.min(low, esf[i]!);
  return { sigmaPx: width / 1.349, undershoot: -low };
}

/** Radius (voxels) of the fine-texture neighbourhood: a blurred fine line is about 2.4 σ wide and stays
 *  "fine" against a neighbourhood of radius 2 σ (at least 1.5 mm); a vessel several millimetres across
 *  does not. */
export function fineRadiusPx(psfSigmaMm: number, pixelMm: number): number {
  return Math.max(1, Math.round(Math.max(1.5, 2 * psfSigmaMm) / pixelMm));
}

function median(values: number[]): number {
  if (!values.length) return NaN;
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The most frequent value (bin centre) within [lo, hi], from a histogram smoothed over three bins. */
export function modeOf(values: readonly number[] | Float64Array, lo: number, hi: number, bin: number): number {
  const nb = Math.ceil((hi - lo) / bin);
  const hist = new Float64Array(nb);
  for (const v of values) if (v >= lo && v < hi) hist[Math.floor((v - lo) / bin)]!++;
  let best = 0, bestV = -1;
  for (let i = 0; i < nb; i++) {
    const s = (hist[i - 1] ?? 0) + 2 * hist[i]! + (hist[i + 1] ?? 0);
    if (s > bestV) { bestV = s; best = i; }
  }
  return lo + (best + 0.5) * bin;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;
