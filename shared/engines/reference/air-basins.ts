/**
 * Air-filled cells walled in on one slice (docs/reference-engine.md, "Cysts and tubes"). A honeycomb cyst
 * 3–5 mm across, seen through the PSF, the slice profile and the denoising box, rarely reaches the
 * half-way air level or even a few noise SDs below parenchyma voxel by voxel; what it keeps is its
 * interior: the voxels its walls enclose are, on average, darker than parenchyma. So the lung is cut along
 * its walls (voxels raised above parenchyma), each enclosed cell small enough to be a cyst is measured on
 * the raw values, and a cell whose mean is below parenchyma by more than its own noise is air. A
 * reticular cell holds parenchyma (or denser, fibrotic lung) and stays; the open lung is one large region
 * and is never a cell. Pure; one slice at a time.
 */

/** What a voxel itself says about the cell it lies in. */
export const VOXEL = { plain: 0, air: 1, airway: 2 } as const;

export type BasinScratch = { label: Int32Array; stack: Int32Array; members: Int32Array };

export const basinScratch = (n: number): BasinScratch => ({ label: new Int32Array(n), stack: new Int32Array(n), members: new Int32Array(n) });

export type BasinLimits = Readonly<{
  /** Cell area in voxels: smaller is noise, larger is open lung. */
  minVoxels: number;
  maxVoxels: number;
  /** How far below parenchyma (HU) a cell of n voxels must average to be air. */
  margin: (n: number) => number;
}>;

/**
 * @param open - 1 where a lung voxel of the slice is not wall (4-connected cells are grown through these).
 * @param rel - each voxel's raw value minus the parenchyma reference of its row (HU).
 * @param kind - VOXEL.air where a voxel is itself clearly air (its denoised value below parenchyma by the
 *   noise margin): a cell holding one is air whatever its mean; VOXEL.airway where it is airway lumen (a
 *   tube, air-holes.ts): a cell holding one is a bronchus cut across, never a cyst.
 * @param out - receives 1 on every voxel of an air cell (others are left as they are).
 * @returns the number of voxels marked.
 */
export function markAirBasins(open: Uint8Array, rel: Float32Array, kind: Uint8Array, bw: number, bh: number, lim: BasinLimits, s: BasinScratch, out: Uint8Array): number {
  const n = bw * bh;
  const { label, stack, members } = s;
  label.fill(0, 0, n);
  let marked = 0;
  for (let start = 0; start < n; start++) {
    if (!open[start] || label[start]) continue;
    // Flood one 4-connected cell, keeping its members (up to the cap: a larger one is open lung).
    let sp = 0, count = 0, sum = 0, seen = 0;
    stack[sp++] = start;
    label[start] = 1;
    while (sp > 0) {
      const i = stack[--sp]!;
      if (count < lim.maxVoxels) members[count] = i;
      count++;
      sum += rel[i]!;
      seen |= kind[i]!;
      const x = i % bw;
      if (x > 0 && open[i - 1] && !label[i - 1]) { label[i - 1] = 1; stack[sp++] = i - 1; }
      if (x < bw - 1 && open[i + 1] && !label[i + 1]) { label[i + 1] = 1; stack[sp++] = i + 1; }
      if (i >= bw && open[i - bw] && !label[i - bw]) { label[i - bw] = 1; stack[sp++] = i - bw; }
      if (i < n - bw && open[i + bw] && !label[i + bw]) { label[i + bw] = 1; stack[sp++] = i + bw; }
    }
    if (count < lim.minVoxels || count > lim.maxVoxels) continue;
    if (seen & VOXEL.airway) continue;
    if (!(seen & VOXEL.air) && sum / count >= -lim.margin(count)) continue;
    for (let k = 0; k < count; k++) out[members[k]!] = 1;
    marked += count;
  }
  return marked;
}
