/**
 * Summed-area tables of several quantities over one slice's box (Crow 1984: any window's sum in four
 * lookups), laid out for the classifier's access pattern:
 * - interleaved — a cell's quantities side by side, so the four corners of a window are four cache
 *   lines however many quantities are read there;
 * - padded by the largest window radius — a window never needs clipping at the box's border. The pad's
 *   cells hold exactly the sums of the clipped window (nothing is added beyond the box), so the results
 *   are the same numbers a clipped table gives.
 */

/** The quantities, by their offset within a cell. Counts and HU sums are integers (exact in float64). */
export const Q = { cnt: 0, dense: 1, hole: 2, dark: 3, nonHole: 4, elevated: 5, sNH: 6, sHole: 7, sAll: 8, sTex: 9, fine: 10 } as const;
export const QUANTITIES = 11;

/** A window's sum of quantity `q` around the cell index `c` (`WindowSums.cell`). */
export type Window = (c: number, q: number) => number;

export type WindowSums = {
  /** The table: cell (Y, X) at (Y · cols + X) · QUANTITIES holds the sums over padded rows < Y, columns < X. */
  S: Float64Array;
  pad: number;
  rows: number;
  cols: number;
  /** The cell index at which windows centred on box pixel (x, y) are read. */
  cell(x: number, y: number): number;
  /** The sum over the (2r + 1)² window (r ≤ pad), as a function of the centre cell and quantity. */
  window(r: number): Window;
};

export function windowSums(bw: number, bh: number, pad: number): WindowSums {
  const rows = bh + 2 * pad + 1, cols = bw + 2 * pad + 1;
  const S = new Float64Array(rows * cols * QUANTITIES);
  return {
    S, pad, rows, cols,
    cell: (x, y) => ((y + pad) * cols + x + pad) * QUANTITIES,
    window(r) {
      if (r > pad) throw new RangeError(`window radius ${r} is beyond the table's pad ${pad}`);
      const o11 = ((r + 1) * cols + r + 1) * QUANTITIES, o01 = (-r * cols + r + 1) * QUANTITIES;
      const o10 = ((r + 1) * cols - r) * QUANTITIES, o00 = (-r * cols - r) * QUANTITIES;
      return (c, q) => S[c + o11 + q]! - S[c + o01 + q]! - S[c + o10 + q]! + S[c + o00 + q]!;
    },
  };
}
