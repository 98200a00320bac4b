/**
 * Run-length building blocks for lung segmentation: a slice's air as runs along rows, so that finding
 * the outside air and the 3D components costs work per run (a few per row), not per voxel. Lungs are
 * smooth shapes: a 512×512 slice has a few hundred air runs, against 262,144 pixels.
 */

/** Growable run storage: start (inclusive) and end (exclusive) column of each run. */
export class Runs {
  start: Int32Array<ArrayBuffer> = new Int32Array(1024);
  end: Int32Array<ArrayBuffer> = new Int32Array(1024);
  count = 0;
  push(s: number, e: number): void {
    if (this.count === this.start.length) {
      const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.start = grow(this.start);
      this.end = grow(this.end);
    }
    this.start[this.count] = s;
    this.end[this.count] = e;
    this.count++;
  }
}

/**
 * Writes one slice's air map: `out[i]` = `outsideValue` for air connected (4-neighbourhood) to the
 * slice's border, `airValue` for air inside the body, `otherValue` elsewhere. Air is `hu < threshold`.
 * One pass over the pixels to find the runs; outside-ness then spreads between overlapping runs of
 * adjacent rows, down and up until nothing changes (a handful of sweeps for body outlines).
 * @param rowFirst - scratch of h + 1 entries.
 */
export function classifyAirRuns(
  hu: Int16Array, base: number, w: number, h: number, threshold: number,
  out: Uint8Array, airValue: number, outsideValue: number, otherValue: number,
  runs: Runs, outside: Uint8Array[], rowFirst: Int32Array,
): void {
  runs.count = 0;
  for (let y = 0; y < h; y++) {
    rowFirst[y] = runs.count;
    const o = base + y * w;
    let x = 0;
    while (x < w) {
      while (x < w && hu[o + x]! >= threshold) x++;
      if (x >= w) break;
      const s = x;
      while (x < w && hu[o + x]! < threshold) x++;
      runs.push(s, x);
    }
  }
  rowFirst[h] = runs.count;
  if (outside[0]!.length < runs.count) outside[0] = new Uint8Array(runs.count * 2);
  const out1 = outside[0]!;
  const { start, end } = runs;
  for (let r = 0; r < runs.count; r++) out1[r] = start[r] === 0 || end[r] === w ? 1 : 0;
  for (let r = rowFirst[0]!; r < rowFirst[1]!; r++) out1[r] = 1;
  for (let r = rowFirst[h - 1]!; r < rowFirst[h]!; r++) out1[r] = 1;
  // Sweep down then up; each sweep marks runs touching an outside run of the row before it.
  for (let changed = true; changed; ) {
    changed = false;
    for (let dir = 0; dir < 2; dir++) {
      const down = dir === 0;
      for (let k = 1; k < h; k++) {
        const y = down ? k : h - 1 - k;
        const py = down ? y - 1 : y + 1;
        let p = rowFirst[py]!;
        const pEnd = rowFirst[py + 1]!;
        for (let r = rowFirst[y]!; r < rowFirst[y + 1]!; r++) {
          if (out1[r]) continue;
          while (p < pEnd && end[p]! <= start[r]!) p++;
          for (let q = p; q < pEnd && start[q]! < end[r]!; q++) {
            if (out1[q]) {
              out1[r] = 1;
              changed = true;
              break;
            }
          }
        }
      }
    }
  }
  paintRuns(out, w, h, airValue, outsideValue, otherValue, runs, outside[0]!, rowFirst);
}

/** Writes a slice from the runs `classifyAirRuns` found (again, with other values if need be). */
export function paintRuns(
  out: Uint8Array, w: number, h: number, airValue: number, outsideValue: number, otherValue: number,
  runs: Runs, outside: Uint8Array, rowFirst: Int32Array,
): void {
  const { start, end } = runs;
  // Runs in a row are in order: fill the gaps between them with otherValue.
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let x = 0;
    for (let r = rowFirst[y]!; r < rowFirst[y + 1]!; r++) {
      if (start[r]! > x) fillRange(out, otherValue, o + x, o + start[r]!);
      fillRange(out, outside[r] ? outsideValue : airValue, o + start[r]!, o + end[r]!);
      x = end[r]!;
    }
    if (x < w) fillRange(out, otherValue, o + x, o + w);
  }
}

/** `fill` costs a call's overhead; the many short runs of textured lung are cheaper as a loop. */
function fillRange(out: Uint8Array, v: number, a: number, b: number): void {
  if (b - a > 32) out.fill(v, a, b);
  else for (let i = a; i < b; i++) out[i] = v;
}

/**
 * 3D components (6-neighbourhood) of the voxels equal to `value` in a w×h×d mask, by union–find over
 * row runs. Keeps the `keepMax` largest components that are at least `minFraction` of the largest and
 * rewrites the voxels of every other component to `droppedValue`.
 * @returns the number of components, how many were dropped, and each slice's bounding box of them all.
 */
export function keepLargestComponents(
  mask: Uint8Array, w: number, h: number, d: number, value: number, droppedValue: number, keepMax: number, minFraction: number,
): { components: number; dropped: number; boxes: Int32Array } {
  const runs = new Runs();
  const rows = h * d;
  const rowFirst = new Int32Array(rows + 1);
  for (let row = 0; row < rows; row++) {
    rowFirst[row] = runs.count;
    const o = row * w;
    let x = 0;
    while (x < w) {
      while (x < w && mask[o + x] !== value) x++;
      if (x >= w) break;
      const s = x;
      while (x < w && mask[o + x] === value) x++;
      runs.push(s, x);
    }
  }
  rowFirst[rows] = runs.count;
  const nRuns = runs.count;
  const parent = new Int32Array(nRuns);
  for (let r = 0; r < nRuns; r++) parent[r] = r;
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]!]!;
      a = parent[a]!;
    }
    return a;
  };
  const { start, end } = runs;
  const unite = (row: number, other: number): void => {
    let p = rowFirst[other]!;
    const pEnd = rowFirst[other + 1]!;
    for (let r = rowFirst[row]!; r < rowFirst[row + 1]!; r++) {
      while (p < pEnd && end[p]! <= start[r]!) p++;
      for (let q = p; q < pEnd && start[q]! < end[r]!; q++) {
        const a = find(r), b = find(q);
        if (a !== b) parent[a < b ? b : a] = a < b ? a : b;
      }
    }
  };
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      const row = z * h + y;
      if (y > 0) unite(row, row - 1);
      if (z > 0) unite(row, row - h);
    }
  }
  const size = new Float64Array(nRuns);
  for (let r = 0; r < nRuns; r++) size[find(r)]! += end[r]! - start[r]!;
  const roots: number[] = [];
  for (let r = 0; r < nRuns; r++) if (parent[r] === r) roots.push(r);
  roots.sort((a, b) => size[b]! - size[a]! || a - b);
  const largest = roots.length ? size[roots[0]!]! : 0;
  const keep = new Uint8Array(nRuns);
  let kept = 0;
  for (const r of roots.slice(0, keepMax)) {
    if (size[r]! >= minFraction * largest) {
      keep[r] = 1;
      kept++;
    }
  }
  for (let row = 0; row < rows; row++) {
    const o = row * w;
    for (let r = rowFirst[row]!; r < rowFirst[row + 1]!; r++) if (!keep[find(r)]) mask.fill(droppedValue, o + start[r]!, o + end[r]!);
  }
  // Per slice, the bounding box [x0, y0, x1, y1] of all these voxels, kept or dropped (x1 = −1: none).
  const boxes = new Int32Array(4 * d);
  for (let z = 0; z < d; z++) {
    let x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (let y = 0; y < h; y++) {
      const row = z * h + y;
      const a = rowFirst[row]!, b = rowFirst[row + 1]!;
      if (a === b) continue;
      if (start[a]! < x0) x0 = start[a]!;
      if (end[b - 1]! - 1 > x1) x1 = end[b - 1]! - 1;
      if (y < y0) y0 = y;
      y1 = y;
    }
    boxes.set([x0, y0, x1, y1], 4 * z);
  }
  return { components: roots.length, dropped: roots.length - kept, boxes };
}
