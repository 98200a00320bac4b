import { describe, expect, it } from 'vitest';
import { shareBatch } from './reconcile.worker.js';

describe('shareBatch', () => {
  it.each<[string, number, number[], number[]]>([
    ['gives the whole batch to the one status with cases', 500, [1000, 0, 0, 0, 0], [500, 0, 0, 0, 0]],
    ['shares it evenly when every status has more than its share', 10, [100, 100, 100, 100, 100], [2, 2, 2, 2, 2]],
    ['leaves what a small status does not need to the others', 10, [1, 50, 0, 2, 50], [1, 3, 0, 2, 4]],
    ['reads every case when they fit', 500, [3, 0, 4, 1, 2], [3, 0, 4, 1, 2]],
    ['never reads more than the batch', 3, [10, 10, 10, 10, 10], [0, 0, 1, 1, 1]],
  ])('%s', (_what, batch, sizes, want) => {
    const got = shareBatch(batch, sizes);
    expect(got).toEqual(want);
    expect(got.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(batch);
  });
});
