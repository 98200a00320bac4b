/**
 * Imaging physics before noise: partial volume and blur.
 *
 * - Partial volume: the model is sampled on sub-slices a fraction of a millimetre apart; in each, a pixel
 *   whose centre value differs from a 4-neighbour's, or that a thin object's surface crosses (the model's
 *   clearance below the half-diagonal), is the mean of ss × ss in-plane sub-samples. Flat pixels keep their
 *   centre value, which is their exact mean. Sub-slices are weighted into slices by the slice sensitivity
 *   profile: a box of the nominal thickness convolved with a Gaussian (sigma 0.4 mm) for the z blur.
 * - PSF: separable Gaussian of sigma psfSigmaMm on the pixel grid (the box of the pixel aperture and
 *   this Gaussian together make the in-plane blur).
 */
import type { Sample } from './types.js';

export const Z_PSF_SIGMA_MM = 0.4;
/** A step between neighbouring pixel centres above this (HU) marks an edge to supersample. */
const EDGE_HU = 4;

/** Weights of the sub-slices at offsets −half…half (in units of dz) from a slice centre; sums to 1. */
export function sliceProfile(thicknessMm: number, dz: number, sigma = Z_PSF_SIGMA_MM): number[] {
  const halfMm = thicknessMm / 2 + 3 * sigma;
  const half = Math.max(0, Math.floor(halfMm / dz + 1e-9));
  const w: number[] = [];
  for (let i = -half; i <= half; i++) {
    const z = i * dz;
    w.push(phi((z + thicknessMm / 2) / sigma) - phi((z - thicknessMm / 2) / sigma));
  }
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}

function phi(x: number): number {
  // Standard normal CDF (Abramowitz & Stegun 7.1.26 erf approximation, |error| < 1.5e-7).
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

export type SubSliceBuffers = { value: Float32Array; label: Uint8Array; side: Uint8Array; clear: Float32Array };

export function subSliceBuffers(n: number): SubSliceBuffers {
  return { value: new Float32Array(n * n), label: new Uint8Array(n * n), side: new Uint8Array(n * n), clear: new Float32Array(n * n) };
}

/**
 * Renders one sub-slice at patient z into `b.value` (partial-volume means) and the centre labels/sides.
 * `x0`, `y0` are the patient coordinates of the first pixel centre.
 */
export function renderSubSlice(evaluate: (x: number, y: number, z: number, o: Sample) => void, z: number, n: number, ps: number, x0: number, y0: number, ss: number, b: SubSliceBuffers): number {
  const o: Sample = { hu: 0, label: 0, side: 0, clear: Infinity };
  const { value, label, side, clear } = b;
  for (let r = 0; r < n; r++) {
    const y = y0 + r * ps;
    for (let c = 0; c < n; c++) {
      evaluate(x0 + c * ps, y, z, o);
      const i = r * n + c;
      value[i] = o.hu;
      label[i] = o.label;
      side[i] = o.side;
      clear[i] = o.clear;
    }
  }
  if (ss <= 1) return 0;
  const half = 0.7072 * ps;
  const offs: number[] = [];
  for (let s = 0; s < ss; s++) offs.push(((s + 0.5) / ss - 0.5) * ps);
  const centreIncluded = ss % 2 === 1;
  const mid = (ss - 1) / 2;
  const out = new Float32Array(n); // one row of results: neighbours must see centre values
  const prevRow = new Float32Array(n);
  let refined = 0;
  for (let r = 0; r < n; r++) {
    const y = y0 + r * ps;
    for (let c = 0; c < n; c++) {
      const i = r * n + c;
      const v = value[i]!;
      let need = clear[i]! < half;
      if (!need) {
        const up = r > 0 ? prevRow[c]! : v;
        // Smooth variations (density gradients, ground-glass modulation) need no sub-samples.
        need = Math.abs(up - v) > EDGE_HU || (r < n - 1 && Math.abs(value[i + n]! - v) > EDGE_HU) ||
          (c > 0 && Math.abs(value[i - 1]! - v) > EDGE_HU) || (c < n - 1 && Math.abs(value[i + 1]! - v) > EDGE_HU);
      }
      if (!need) {
        out[c] = v;
        continue;
      }
      refined++;
      let sum = 0;
      const x = x0 + c * ps;
      for (let sy = 0; sy < ss; sy++)
        for (let sx = 0; sx < ss; sx++) {
          if (centreIncluded && sy === mid && sx === mid) {
            sum += v;
            continue;
          }
          evaluate(x + offs[sx]!, y + offs[sy]!, z, o);
          sum += o.hu;
        }
      out[c] = sum / (ss * ss);
    }
    // Row r is final; keep its centre values for row r + 1's "up" neighbour test.
    for (let c = 0; c < n; c++) prevRow[c] = value[r * n + c]!;
    value.set(out, r * n);
  }
  return refined;
}

/** In-place separable Gaussian blur (edges replicate); sigma in pixels. */
/**
 * The kernel's PSF: a Gaussian of `sigmaPx`, or with edge enhancement `a` the difference
 * (1 + a)·G(σ) − a·G(2.5 σ) (unit gain; `wide` is scratch the size of `img`).
 */
export function kernelBlur(img: Float32Array, n: number, sigmaPx: number, a: number, tmp: Float32Array, wide: Float32Array): void {
  if (a <= 0) return gaussianBlur(img, n, sigmaPx, tmp);
  wide.set(img);
  gaussianBlur(img, n, sigmaPx, tmp);
  gaussianBlur(wide, n, 2.5 * sigmaPx, tmp);
  for (let i = 0; i < img.length; i++) img[i] = (1 + a) * img[i]! - a * wide[i]!;
}

export function gaussianBlur(img: Float32Array, n: number, sigmaPx: number, tmp: Float32Array): void {
  if (sigmaPx <= 0.05) return;
  const k = gaussianKernel(sigmaPx);
  convolveRows(img, tmp, n, k);
  convolveCols(tmp, img, n, k);
}

export function gaussianKernel(sigmaPx: number): Float64Array {
  const rad = Math.max(1, Math.ceil(3 * sigmaPx));
  const k = new Float64Array(2 * rad + 1);
  let s = 0;
  for (let i = -rad; i <= rad; i++) s += k[i + rad] = Math.exp(-(i * i) / (2 * sigmaPx * sigmaPx));
  for (let i = 0; i < k.length; i++) k[i]! /= s;
  return k;
}

export function convolveRows(src: Float32Array, dst: Float32Array, n: number, k: Float64Array): void {
  const rad = (k.length - 1) / 2;
  for (let r = 0; r < n; r++) {
    const o = r * n;
    for (let c = 0; c < n; c++) {
      let s = 0;
      for (let t = -rad; t <= rad; t++) {
        const cc = c + t < 0 ? 0 : c + t >= n ? n - 1 : c + t;
        s += k[t + rad]! * src[o + cc]!;
      }
      dst[o + c] = s;
    }
  }
}

export function convolveCols(src: Float32Array, dst: Float32Array, n: number, k: Float64Array): void {
  const rad = (k.length - 1) / 2;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      let s = 0;
      for (let t = -rad; t <= rad; t++) {
        const rr = r + t < 0 ? 0 : r + t >= n ? n - 1 : r + t;
        s += k[t + rad]! * src[rr * n + c]!;
      }
      dst[r * n + c] = s;
    }
  }
}
