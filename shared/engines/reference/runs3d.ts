/**
 * 3D connected components of a byte mask as runs along rows (Rosenfeld and Pfaltz's two-pass labelling,
 * on runs instead of voxels): work grows with the number of runs, not voxels, and the only per-voxel cost
 * is one scan of the mask.
 */
export type Runs = { count: number; row: Int32Array; x0: Int32Array; x1: Int32Array; comp: Int32Array; rowStart: Int32Array };

/** Runs of `value` along each row, with 6-connected union–find across rows and slices; components are
 *  numbered in the order of their first run, so the result is deterministic. */
export function findRuns(labels: Uint8Array, w: number, h: number, d: number, value: number): Runs {
  let cap = 1 << 16;
  let row = new Int32Array(cap), x0 = new Int32Array(cap), x1 = new Int32Array(cap), parent = new Int32Array(cap);
  const rowStart = new Int32Array(d * h + 1);
  let count = 0;
  const find = (a: number): number => {
    while (parent[a] !== a) { parent[a] = parent[parent[a]!]!; a = parent[a]!; }
    return a;
  };
  const union = (a: number, b: number): void => {
    a = find(a); b = find(b);
    if (a !== b) { if (a < b) parent[b] = a; else parent[a] = b; }
  };
  const linkRow = (prevRow: number, s: number, e: number, k: number): void => {
    if (prevRow < 0) return;
    for (let j = rowStart[prevRow]!; j < rowStart[prevRow + 1]!; j++) {
      if (x1[j]! < s) continue;
      if (x0[j]! > e) break;
      union(k, j);
    }
  };
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      const r = z * h + y;
      rowStart[r] = count;
      const o = r * w;
      let x = 0;
      while (x < w) {
        if (labels[o + x] !== value) { x++; continue; }
        const s = x;
        while (x < w && labels[o + x] === value) x++;
        if (count === cap) {
          cap *= 2;
          const grow = (a: Int32Array): Int32Array<ArrayBuffer> => { const b = new Int32Array(cap); b.set(a); return b; };
          row = grow(row); x0 = grow(x0); x1 = grow(x1); parent = grow(parent);
        }
        row[count] = r; x0[count] = s; x1[count] = x - 1; parent[count] = count;
        const k = count++;
        linkRow(y > 0 ? r - 1 : -1, s, x - 1, k);
        linkRow(z > 0 ? r - h : -1, s, x - 1, k);
      }
    }
  }
  rowStart[d * h] = count;
  // Dense component ids in order of first run (deterministic).
  const comp = new Int32Array(count);
  const id = new Int32Array(count).fill(-1);
  let next = 0;
  for (let k = 0; k < count; k++) {
    const root = find(k);
    if (id[root] === -1) id[root] = next++;
    comp[k] = id[root]!;
  }
  return { count, row, x0, x1, comp, rowStart };
}

