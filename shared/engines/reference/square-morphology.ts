/**
 * Binary erosion and dilation of one slice with a square of half-width r, from a summed-area table of the
 * mask (Crow 1984): constant work per pixel whatever r. Squares instead of disks: the structures they
 * test (vessel cores, gaps bridged by a closing) are a few pixels across, where the two differ by a pixel.
 */

/** Scratch sized for a w × h slice; reuse across slices. */
export function squareScratch(w: number, h: number): Int32Array {
  return new Int32Array((w + 1) * (h + 1));
}

function sat(mask: Uint8Array, w: number, h: number, s: Int32Array): void {
  const SW = w + 1;
  s.fill(0, 0, SW);
  for (let y = 0; y < h; y++) {
    let run = 0;
    const row = (y + 1) * SW;
    s[row] = 0;
    for (let x = 0; x < w; x++) {
      run += mask[y * w + x] ? 1 : 0;
      s[row + x + 1] = s[row + x + 1 - SW]! + run;
    }
  }
}

function count(s: Int32Array, w: number, h: number, x: number, y: number, r: number): { n: number; area: number } {
  const SW = w + 1;
  const xa = Math.max(0, x - r), xb = Math.min(w, x + r + 1), ya = Math.max(0, y - r), yb = Math.min(h, y + r + 1);
  return { n: s[yb * SW + xb]! - s[ya * SW + xb]! - s[yb * SW + xa]! + s[ya * SW + xa]!, area: (xb - xa) * (yb - ya) };
}

/** out[i] = 1 where every pixel of the square around i (clipped at the border) is set. */
export function erodeSquare(mask: Uint8Array, w: number, h: number, r: number, s: Int32Array, out: Uint8Array): void {
  sat(mask, w, h, s);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = count(s, w, h, x, y, r);
      out[y * w + x] = c.n === c.area ? 1 : 0;
    }
  }
}

/** out[i] = 1 where any pixel of the square around i is set. */
export function dilateSquare(mask: Uint8Array, w: number, h: number, r: number, s: Int32Array, out: Uint8Array): void {
  sat(mask, w, h, s);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = count(s, w, h, x, y, r).n > 0 ? 1 : 0;
}
