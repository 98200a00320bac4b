import { describe, expect, it } from 'vitest';
import { dilateSquare, erodeSquare, squareScratch } from './square-morphology.js';

describe('square morphology', () => {
  const w = 9, h = 7;
  const s = squareScratch(w, h);
  it('erodes a 5×5 block to its 3×3 centre and dilates a point to a 3×3 square', () => {
    const block = new Uint8Array(w * h);
    for (let y = 1; y <= 5; y++) for (let x = 2; x <= 6; x++) block[y * w + x] = 1;
    const out = new Uint8Array(w * h);
    erodeSquare(block, w, h, 1, s, out);
    const set = [...out].map((v, i) => (v ? i : -1)).filter((i) => i >= 0);
    expect(set).toEqual([2, 3, 4].flatMap((y) => [3, 4, 5].map((x) => y * w + x)));
    const point = new Uint8Array(w * h);
    point[3 * w + 4] = 1;
    dilateSquare(point, w, h, 1, s, out);
    expect(out.reduce((a, b) => a + b, 0)).toBe(9);
    expect(out[2 * w + 3]).toBe(1);
    expect(out[1 * w + 4]).toBe(0);
  });
  it('keeps a one-pixel line out of an erosion (fine lines have no core)', () => {
    const line = new Uint8Array(w * h);
    for (let x = 0; x < w; x++) line[3 * w + x] = 1;
    const out = new Uint8Array(w * h);
    erodeSquare(line, w, h, 1, s, out);
    expect(out.every((v) => v === 0)).toBe(true);
  });
});
