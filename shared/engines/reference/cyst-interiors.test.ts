import { describe, expect, it } from 'vitest';
import { basinScratch } from './air-basins.js';
import { HOLE } from './air-holes.js';
import { CLASS, claimCystInteriors } from './classify.js';

/** A 12 × 12 slice, all lung, with a 6 × 6 round hole at (3…8, 3…8). */
function slice(edge: number, core: number) {
  const bw = 12, bh = 12, n = bw * bh;
  const holes = new Uint8Array(n), lung = new Uint8Array(n).fill(1), cls = new Uint8Array(n).fill(CLASS.normal);
  for (let y = 3; y <= 8; y++) for (let x = 3; x <= 8; x++) {
    const i = y * bw + x;
    holes[i] = HOLE.round;
    cls[i] = y === 3 || y === 8 || x === 3 || x === 8 ? edge : core;
  }
  return { holes, lung, cls, bw, bh, at: (x: number, y: number) => cls[y * bw + x] };
}

describe('a cyst is one structure', () => {
  it('a hole whose edge is honeycombing is honeycombing throughout, its centre included', () => {
    const s = slice(CLASS.honeycombing, CLASS.emphysema);
    claimCystInteriors(s.holes, s.lung, s.cls, s.bw, s.bh, basinScratch(s.bw * s.bh));
    expect(s.at(5, 5)).toBe(CLASS.honeycombing);
    expect(s.at(0, 0)).toBe(CLASS.normal); // outside the hole: untouched
  });

  it('a hole without walls (emphysema at its edge) stays emphysema', () => {
    const s = slice(CLASS.emphysema, CLASS.emphysema);
    claimCystInteriors(s.holes, s.lung, s.cls, s.bw, s.bh, basinScratch(s.bw * s.bh));
    expect(s.at(5, 5)).toBe(CLASS.emphysema);
  });

  it('a hole with honeycombing on less than half its edge is not claimed', () => {
    const s = slice(CLASS.emphysema, CLASS.emphysema);
    for (let x = 3; x <= 8; x++) s.cls[3 * s.bw + x] = CLASS.honeycombing; // one side of four
    claimCystInteriors(s.holes, s.lung, s.cls, s.bw, s.bh, basinScratch(s.bw * s.bh));
    expect(s.at(5, 5)).toBe(CLASS.emphysema);
  });

  it('airway lumen (a tube) is never claimed', () => {
    const s = slice(CLASS.honeycombing, CLASS.emphysema);
    for (let i = 0; i < s.holes.length; i++) if (s.holes[i]) s.holes[i] = HOLE.tube;
    claimCystInteriors(s.holes, s.lung, s.cls, s.bw, s.bh, basinScratch(s.bw * s.bh));
    expect(s.at(5, 5)).toBe(CLASS.emphysema);
  });
});
