import { describe, expect, it } from 'vitest';
import { buildSat, chamferDistance, floodFromBorder, windowSum } from './planar.js';

describe('planar helpers', () => {
  it('computes chamfer distances close to Euclidean from a single feature pixel', () => {
    const w = 21, h = 21;
    const m = new Uint8Array(w * h);
    m[10 * w + 10] = 1;
    const d = new Float32Array(w * h);
    chamferDistance(m, 1, w, h, 0.5, d);
    expect(d[10 * w + 10]).toBe(0);
    // Within 4.5% of the Euclidean distance (5 px × 0.5 mm, the diagonal, and a knight-like offset).
    for (const [x, y] of [[15, 10], [15, 15], [20, 13], [0, 20]] as const) {
      const truth = Math.hypot(x - 10, y - 10) * 0.5;
      expect(Math.abs(d[y * w + x]! - truth) / truth).toBeLessThan(0.045);
    }
  });

  it('marks only the passable pixels connected to the border', () => {
    // A ring of 1s enclosing a hole of 0s: the hole is not reachable from the border.
    const w = 7, h = 7;
    const m = new Uint8Array(w * h);
    for (let y = 1; y < 6; y++) for (let x = 1; x < 6; x++) m[y * w + x] = y === 1 || y === 5 || x === 1 || x === 5 ? 1 : 0;
    const marked = floodFromBorder(m, w, h, 0, 9, new Int32Array(w * h));
    expect(marked).toBe(24); // the outer frame
    expect(m[3 * w + 3]).toBe(0);
    expect(m[0]).toBe(9);
  });

  it('sums windows through the summed-area table, clipped at the edges', () => {
    const w = 5, h = 4;
    const sat = new Float64Array((w + 1) * (h + 1));
    buildSat(sat, w, h, (i) => i);
    let brute = 0;
    for (let y = 0; y <= 2; y++) for (let x = 1; x <= 3; x++) brute += y * w + x;
    expect(windowSum(sat, w, h, 2, 1, 1)).toBe(brute);
    expect(windowSum(sat, w, h, 0, 0, 10)).toBe((w * h * (w * h - 1)) / 2);
  });
});
