import { describe, expect, it } from 'vitest';
import { VOXEL, basinScratch, markAirBasins, type BasinLimits } from './air-basins.js';

/**
 * A 20 × 12 slice: a wall column at x = 10 splits it; on the right, walls draw three small cells
 * (4 × 4 interiors) and the left half is open lung (120 voxels, over the cap).
 */
function slice(cellValues: readonly [number, number, number]): { open: Uint8Array; rel: Float32Array; kind: Uint8Array; bw: number; bh: number } {
  const bw = 20, bh = 12;
  const open = new Uint8Array(bw * bh).fill(1), rel = new Float32Array(bw * bh), kind = new Uint8Array(bw * bh);
  const wall = (x: number, y: number): void => { open[y * bw + x] = 0; };
  for (let y = 0; y < bh; y++) wall(10, y);
  // cells with interiors x 11–14 / 15–18 … separated by walls at y = 0, 5, 10 and x = 15
  for (let x = 10; x < bw; x++) { wall(x, 0); wall(x, 5); wall(x, 10); }
  for (let y = 0; y < bh; y++) wall(15, y);
  const cells = [[11, 1], [16, 1], [11, 6]] as const;
  cells.forEach(([x0, y0], k) => {
    for (let y = y0; y < y0 + 4; y++) for (let x = x0; x < x0 + 4; x++) rel[y * bw + x] = cellValues[k]!;
  });
  return { open, rel, kind, bw, bh };
}

const limits: BasinLimits = { minVoxels: 3, maxVoxels: 50, margin: (n) => 120 / Math.sqrt(n) }; // 30 HU for 16 voxels

describe('markAirBasins', () => {
  it('marks a walled cell whose mean is below parenchyma by more than its margin, and only it', () => {
    const s = slice([-60, 0, -20]);
    const out = new Uint8Array(s.bw * s.bh);
    const n = markAirBasins(s.open, s.rel, s.kind, s.bw, s.bh, limits, basinScratch(s.bw * s.bh), out);
    expect(n).toBe(16);
    expect(out[2 * s.bw + 12]).toBe(1); // inside the −60 cell
    expect(out[2 * s.bw + 17]).toBe(0); // parenchyma cell: a reticular cell, not air
    expect(out[7 * s.bw + 12]).toBe(0); // −20: within the noise margin
  });

  it('never marks open lung, however dark: a region over the cap is not a cell', () => {
    const s = slice([0, 0, 0]);
    for (let y = 0; y < s.bh; y++) for (let x = 0; x < 10; x++) s.rel[y * s.bw + x] = -500;
    const out = new Uint8Array(s.bw * s.bh);
    expect(markAirBasins(s.open, s.rel, s.kind, s.bw, s.bh, limits, basinScratch(s.bw * s.bh), out)).toBe(0);
  });

  it('marks a whole cell holding a clearly dark voxel, and ignores pockets under the minimum size', () => {
    const s = slice([0, 0, 0]);
    s.kind[7 * s.bw + 12] = VOXEL.air;
    // a two-voxel pocket, very dark, walled in at the bottom right
    for (let x = 16; x < 20; x++) s.open[6 * s.bw + x] = 0;
    s.open[7 * s.bw + 18] = 0; s.open[7 * s.bw + 19] = 0; s.open[8 * s.bw + 16] = 0; s.open[8 * s.bw + 17] = 0;
    s.open[8 * s.bw + 18] = 0; s.open[8 * s.bw + 19] = 0;
    s.rel[7 * s.bw + 16] = -900; s.rel[7 * s.bw + 17] = -900;
    const out = new Uint8Array(s.bw * s.bh);
    const n = markAirBasins(s.open, s.rel, s.kind, s.bw, s.bh, limits, basinScratch(s.bw * s.bh), out);
    expect(n).toBe(16);
    expect(out[6 * s.bw + 11]).toBe(1);
    expect(out[7 * s.bw + 16]).toBe(0);
  });

  it('never marks a cell holding airway lumen: a bronchus cut across is not a cyst', () => {
    const s = slice([-60, 0, 0]);
    s.kind[2 * s.bw + 12] = VOXEL.airway;
    const out = new Uint8Array(s.bw * s.bh);
    expect(markAirBasins(s.open, s.rel, s.kind, s.bw, s.bh, limits, basinScratch(s.bw * s.bh), out)).toBe(0);
  });
});
