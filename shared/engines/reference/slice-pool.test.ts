import { describe, expect, it } from 'vitest';
import { openSlicePool, slabCuts } from './slice-pool.js';
import { sharedArray } from './threads.js';

describe('slabCuts', () => {
  it('cuts a range into contiguous, non-empty slabs that cover it once', () => {
    expect(slabCuts(3, 12, 2)).toEqual([[3, 7], [8, 12]]);
    expect(slabCuts(0, 0, 4)).toEqual([[0, 0]]);
    expect(slabCuts(5, 4, 2)).toEqual([]);
    expect(slabCuts(0, 9, 1)).toEqual([[0, 9]]);
  });

  it('balances the work, not the slice count', () => {
    const work = [0, 0, 10, 10, 10, 10, 1, 1, 1, 1];
    const cuts = slabCuts(0, 9, 2, work);
    const sum = ([a, b]: [number, number]) => work.slice(a, b + 1).reduce((s, v) => s + v, 0);
    expect(cuts).toEqual([[0, 3], [4, 9]]);
    expect(Math.abs(sum(cuts[0]!) - sum(cuts[1]!))).toBeLessThanOrEqual(10);
  });
});

describe('the slice pool', () => {
  it('runs a stage on helper threads over shared memory, writing in place, with results in slice order', { timeout: 30_000 }, async () => {
    const w = 64, h = 64, d = 12;
    const hu = sharedArray(Int16Array, w * h * d).fill(-1000);
    // A 'body' disc in every slice: its inside is tissue, the corners outside air.
    for (let z = 0; z < d; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - 32) ** 2 + (y - 32) ** 2 < 28 ** 2) hu[(z * h + y) * w + x] = 40;
    const labels = sharedArray(Uint8Array, w * h * d);
    const pool = openSlicePool(3);
    try {
      const out = await pool.run('outside', { hu, labels, w, h }, slabCuts(0, d - 1, pool.parts));
      expect(out).toEqual([null, null, null]);
    } finally {
      await pool.close();
    }
    for (const z of [0, 5, 11]) {
      expect(labels[(z * h) * w]).toBe(1); // a corner: outside
      expect(labels[(z * h + 32) * w + 32]).toBe(0); // the centre: body
    }
  });
});
