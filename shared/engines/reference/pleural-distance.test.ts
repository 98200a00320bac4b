import { describe, expect, it } from 'vitest';
import { LABEL } from './body.js';
import { distanceScratch, sliceDistances, zDistances } from './pleural-distance.js';
import { mulberry32 } from '../../phantom/generate-phantom.js';

/** Brute force: distance (mm) from each lung voxel centre to the nearest non-lung voxel centre. */
function bruteForce(lung: Uint8Array, w: number, h: number, d: number, s: readonly [number, number, number], z: number): Float64Array {
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!lung[(z * h + y) * w + x]) continue;
      let best = Infinity;
      for (let k = 0; k < d; k++) for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) {
        if (lung[(k * h + yy) * w + xx]) continue;
        best = Math.min(best, Math.hypot((xx - x) * s[0], (yy - y) * s[1], (k - z) * s[2]));
      }
      out[y * w + x] = best;
    }
  }
  return out;
}

describe('pleural distance', () => {
  it('equals the brute-force Euclidean distance with anisotropic spacing', () => {
    const w = 17, h = 13, d = 9;
    const rand = mulberry32(7);
    const labels = new Uint8Array(w * h * d);
    // a blob of lung inside a non-lung border, with a few holes
    for (let z = 1; z < d - 1; z++) for (let y = 1; y < h - 1; y++) for (let x = 1; x < w - 1; x++) {
      labels[(z * h + y) * w + x] = rand() < 0.93 ? LABEL.lung : LABEL.tissue;
    }
    const spacing = [0.7, 0.8, 1.5] as const;
    const box = { x0: 0, y0: 0, z0: 0, x1: w - 1, y1: h - 1, z1: d - 1 };
    const zd = zDistances(labels, w, h, d, box);
    const scratch = distanceScratch(w, h);
    const out = new Float32Array(w * h);
    const lung = labels.map((l) => (l === LABEL.lung ? 1 : 0));
    for (const z of [2, 4, 6]) {
      sliceDistances(zd, w, h, z, spacing[0], spacing[1], spacing[2], scratch, out);
      const want = bruteForce(lung, w, h, d, spacing, z);
      for (let i = 0; i < w * h; i++) if (lung[z * w * h + i]) expect(out[i]!).toBeCloseTo(want[i]!, 4);
    }
  });
});
