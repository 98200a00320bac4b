import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../phantom/generate-phantom.js';
import { dilateSquare, floodFromBorder } from './planar.js';
import { Runs, classifyAirRuns, keepLargestComponents } from './runs.js';

/** A random slice of blobs: HU −1000 (air) or 40, with enough structure for concave outlines. */
function randomSlice(w: number, h: number, seed: number): Int16Array {
  const rand = mulberry32(seed);
  const hu = new Int16Array(w * h).fill(40);
  for (let b = 0; b < 12; b++) {
    const cx = rand() * w, cy = rand() * h, r = 2 + rand() * 8;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) hu[y * w + x] = -1000;
  }
  return hu;
}

describe('classifyAirRuns', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('marks the same outside air as a flood fill from the border (seed %i)', (seed) => {
    const w = 48, h = 40;
    const hu = randomSlice(w, h, seed);
    const byFlood = new Uint8Array(w * h);
    for (let i = 0; i < w * h; i++) byFlood[i] = hu[i]! < -400 ? 1 : 0;
    floodFromBorder(byFlood, w, h, 1, 3, new Int32Array(w * h));
    const byRuns = new Uint8Array(w * h);
    classifyAirRuns(hu, 0, w, h, -400, byRuns, 1, 3, 0, new Runs(), [new Uint8Array(4)], new Int32Array(h + 1));
    expect(byRuns).toEqual(byFlood);
  });
});

describe('keepLargestComponents', () => {
  it('keeps the two largest 3D components and drops the small ones', () => {
    const w = 10, h = 10, d = 4;
    const m = new Uint8Array(w * h * d);
    const box = (x0: number, x1: number, y0: number, y1: number, z0: number, z1: number) => {
      for (let z = z0; z <= z1; z++) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[(z * h + y) * w + x] = 1;
    };
    box(1, 3, 1, 8, 0, 3); // 96 voxels
    box(6, 8, 1, 8, 0, 2); // 72, joined across slices only
    box(5, 5, 5, 5, 3, 3); // 1: a speck
    const r = keepLargestComponents(m, w, h, d, 1, 4, 2, 0.1);
    expect(r).toMatchObject({ components: 3, dropped: 1 });
    expect([...r.boxes.subarray(12, 16)]).toEqual([1, 1, 5, 8]); // slice 3: the first box and the speck
    expect(m[(3 * h + 5) * w + 5]).toBe(4);
    expect(m.filter((v) => v === 1).length).toBe(96 + 72);
  });
});

describe('dilateSquare', () => {
  it('grows a point into a square of half-side r, and erosion (dilating the background) undoes it', () => {
    const w = 9, h = 9;
    const m = new Uint8Array(w * h);
    m[4 * w + 4] = 1;
    const flags = new Uint8Array(w * h);
    dilateSquare(m, w, h, 2, 1, flags);
    expect(m.filter((v) => v === 1).length).toBe(25);
    expect(m[2 * w + 2]).toBe(1);
    expect(m[1 * w + 4]).toBe(0);
    dilateSquare(m, w, h, 2, 0, flags);
    expect(m.filter((v) => v === 1).length).toBe(1);
  });
});
