import { describe, expect, it } from 'vitest';
import { fineLineEnergy, fineLineResponse, REFERENCE_SCAN } from './line-response.js';

describe('the fine texture a thin line keeps', () => {
  it('is 1 on the reference scan', () => {
    expect(fineLineResponse(REFERENCE_SCAN.psfSigmaMm, REFERENCE_SCAN.pixelMm)).toBeCloseTo(1, 12);
  });

  it('falls under a soft kernel far less than the 1/σ of peak contrast: the profile widens, and so does the neighbourhood', () => {
    const soft = fineLineResponse(1.15, 0.7);
    expect(soft).toBeGreaterThan(0.75);
    expect(soft).toBeLessThan(0.9);
    expect(soft).toBeGreaterThan(REFERENCE_SCAN.psfSigmaMm / 1.15 + 0.15);
  });

  it('rises above 1 under a sharper PSF than the reference', () => {
    expect(fineLineResponse(0.45, 0.7)).toBeGreaterThan(1.2);
  });

  it('matches a direct 2-D reckoning on a pixel grid: a line through the PSF, the ±1 box, minus the neighbourhood mean', () => {
    // An independent check of the 1-D formula: a vertical line sampled on a fine grid, blurred and
    // filtered in 2-D with the engine's own filter sizes, its squared texture summed per unit length.
    const direct = (sigma: number, ps: number, rF: number): number => {
      const sub = 20, n = 400; // 20 samples per pixel, 20 pixels each side
      const g = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const x = ((i - n / 2 + 0.5) / sub) * ps;
        g[i] = Math.exp((-x * x) / (2 * sigma * sigma));
      }
      const mass = g.reduce((a, b) => a + b, 0) * (ps / sub);
      const box = (v: Float64Array, half: number) => v.map((_, i) => { let s = 0; for (let k = -half; k <= half; k++) s += v[i + k] ?? 0; return s / (2 * half + 1); });
      const t = box(g.map((v) => v / mass), Math.round(1.5 * sub)); // the ±1 voxel box: 3 pixels wide
      const f = box(t, Math.round((rF + 0.5) * sub));
      let e = 0;
      for (let i = 0; i < n; i++) e += (t[i]! - f[i]!) ** 2 * (ps / sub);
      return Math.sqrt(e);
    };
    const ratio = direct(1.15, 0.7, 3) / direct(0.67, 0.7, 2);
    expect(fineLineResponse(1.15, 0.7)).toBeCloseTo(ratio, 1);
  });

  it('is a positive, finite energy for every PSF and pixel the engine accepts', () => {
    for (const s of [0.2, 0.6, 1.2, 2]) for (const p of [0.4, 0.7, 1]) {
      const e = fineLineEnergy(s, p);
      expect(Number.isFinite(e) && e > 0).toBe(true);
    }
  });
});
