/**
 * CT image noise: zero-mean Gaussian, stationary (the same SD in the body and in the air around it),
 * spatially correlated per slice, scaled so the pixel SD equals the requested value exactly in
 * expectation (the filter's variance gain Σk² is divided out).
 * - `fibre` family: white noise through a Gaussian of sigma 0.6 px — a low-pass NPS.
 * - `voronoi` family: a difference of Gaussians, band-pass with little power at low frequency, like the
 *   ramp-filtered noise of filtered back-projection (NPS ∝ |f| times the apodising window; see e.g.
 *   Boedeker et al., Phys Med Biol 2007;52:4027).
 */
import { mulberry32 } from '../../../shared/phantom/generate-phantom.js';
import { subSeed } from './field.js';
import { convolveCols, convolveRows, gaussianKernel } from './render.js';
import type { ScannerFamily } from './types.js';

export type NoiseField = {
  /** Adds one slice's noise (index k) to `img` (n × n). */
  add: (k: number, img: Float32Array) => void;
};

export function makeNoise(family: ScannerFamily, n: number, sdHu: number, seed: number): NoiseField {
  const base = subSeed(seed, 'noise');
  const white = new Float32Array(n * n), a = new Float32Array(n * n), b = new Float32Array(n * n), t = new Float32Array(n * n);
  const g1 = gaussianKernel(family === 'fibre' ? 0.6 : 0.7);
  const g2 = gaussianKernel(2.0);
  const dogWeight = 0.8;
  // Variance gain of the 2-D kernel (separable for the Gaussian; explicit for the DoG).
  let gain: number;
  if (family === 'fibre') {
    const s = g1.reduce((p, v) => p + v * v, 0);
    gain = s * s;
  } else {
    const r2 = (g2.length - 1) / 2, r1 = (g1.length - 1) / 2;
    gain = 0;
    for (let i = -r2; i <= r2; i++)
      for (let j = -r2; j <= r2; j++) {
        const k1 = Math.abs(i) <= r1 && Math.abs(j) <= r1 ? g1[i + r1]! * g1[j + r1]! : 0;
        gain += (k1 - dogWeight * g2[i + r2]! * g2[j + r2]!) ** 2;
      }
  }
  const scale = sdHu / Math.sqrt(gain);
  const add = (k: number, img: Float32Array): void => {
    if (sdHu <= 0) return;
    const rnd = mulberry32((base ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0);
    for (let i = 0; i < white.length; i += 2) {
      const u = 1 - rnd(), v = rnd();
      const m = Math.sqrt(-2 * Math.log(u));
      white[i] = m * Math.cos(2 * Math.PI * v);
      if (i + 1 < white.length) white[i + 1] = m * Math.sin(2 * Math.PI * v);
    }
    convolveRows(white, t, n, g1);
    convolveCols(t, a, n, g1);
    if (family === 'fibre') {
      for (let i = 0; i < img.length; i++) img[i]! += scale * a[i]!;
      return;
    }
    convolveRows(white, t, n, g2);
    convolveCols(t, b, n, g2);
    for (let i = 0; i < img.length; i++) img[i]! += scale * (a[i]! - dogWeight * b[i]!);
  };
  return { add };
}
