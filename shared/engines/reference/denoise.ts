/**
 * Denoised lung density (docs/reference-engine.md, "Denoised density"): the mean of the lung voxels in a
 * (2r+1)² × (2rz+1) box around each lung voxel — a normalised box filter, so the chest wall and the
 * mediastinum never leak into the pleural voxels. The box radius comes from the measured noise
 * (scan-physics.ts). Separable running sums: a constant cost per voxel whatever the radius. Only the lungs'
 * bounding box is filtered, one slice at a time, with a ring of 2rz+1 slices of partial sums.
 */
import { LABEL } from './body.js';
import { sharedArray } from './threads.js';

export type Box3 = { x0: number; y0: number; z0: number; x1: number; y1: number; z1: number };

/** The volume, its labels and the lungs' box with its denoised density: what every stage after the
 *  denoising reads. */
export type DenoisedLungs = Readonly<{
  hu: Int16Array;
  labels: Uint8Array;
  w: number;
  h: number;
  box: Box3;
  /** The denoised density of the box (`denoiseOutput` layout). */
  denoised: Int16Array;
}>;

export type DenoiseInput = {
  hu: Int16Array;
  labels: Uint8Array;
  w: number;
  h: number;
  box: Box3;
  /** Box radius in-plane and along z, voxels. */
  r: number;
  rz: number;
  /** The denoised density (HU) of every voxel of `box`, lung voxels only (others 0); layout
   *  ((z − z0) · bh + (y − y0)) · bw + (x − x0) — `denoiseOutput` allocates it. */
  out: Int16Array;
};

export function denoiseOutput(box: Box3): Int16Array {
  return sharedArray(Int16Array, (box.x1 - box.x0 + 1) * (box.y1 - box.y0 + 1) * (box.z1 - box.z0 + 1));
}

/** Denoises slices za…zb of the box (each slab starts its own ring of partial sums: same result). */
export function denoiseSlab({ hu, labels, w, h, box, r, rz, out }: DenoiseInput, za: number, zb: number): void {
  const bw = box.x1 - box.x0 + 1, bh = box.y1 - box.y0 + 1;
  const bn = bw * bh;
  const ring = 2 * rz + 1;
  const sums = Array.from({ length: ring }, () => new Float64Array(bn));
  const counts = Array.from({ length: ring }, () => new Float64Array(bn));
  const rowS = new Float64Array(bn), rowC = new Float64Array(bn);
  const planar = (z: number, S: Float64Array, C: Float64Array): void => planarSums(hu, labels, w, h, box, r, z, S, C, rowS, rowC);
  for (let k = 0; k < ring - 1; k++) planar(za - rz + k, sums[k]!, counts[k]!);
  for (let z = za; z <= zb; z++) {
    const slot = (z + rz - (za - rz)) % ring;
    planar(z + rz, sums[slot]!, counts[slot]!);
    const base = z * w * h;
    const o = (z - box.z0) * bn;
    for (let y = 0; y < bh; y++) {
      const src = base + (box.y0 + y) * w + box.x0;
      for (let x = 0; x < bw; x++) {
        if (labels[src + x] !== LABEL.lung) continue;
        const i = y * bw + x;
        let s = 0, c = 0;
        for (let k = 0; k < ring; k++) { s += sums[k]![i]!; c += counts[k]![i]!; }
        out[o + i] = Math.round(s / c);
      }
    }
  }
}

/** In-plane box sums (lung voxels only) of slice z over the box: sums `S` and counts `C`; zero off the box. */
function planarSums(hu: Int16Array, labels: Uint8Array, w: number, h: number, box: Box3, r: number, z: number, S: Float64Array, C: Float64Array, rowS: Float64Array, rowC: Float64Array): void {
  const bw = box.x1 - box.x0 + 1, bh = box.y1 - box.y0 + 1;
  if (z < box.z0 || z > box.z1) { S.fill(0); C.fill(0); return; }
  const base = z * w * h;
  // along x
  for (let y = 0; y < bh; y++) {
    const src = base + (box.y0 + y) * w + box.x0;
    const o = y * bw;
    let s = 0, c = 0;
    for (let x = -r; x < bw + r; x++) {
      const a = x + r;
      if (a < bw && labels[src + a] === LABEL.lung) { s += hu[src + a]!; c++; }
      const b = x - r - 1;
      if (b >= 0 && labels[src + b] === LABEL.lung) { s -= hu[src + b]!; c--; }
      if (x >= 0 && x < bw) { rowS[o + x] = s; rowC[o + x] = c; }
    }
  }
  // along y
  for (let x = 0; x < bw; x++) {
    let s = 0, c = 0;
    for (let y = -r; y < bh + r; y++) {
      const a = y + r;
      if (a < bh) { s += rowS[a * bw + x]!; c += rowC[a * bw + x]!; }
      const b = y - r - 1;
      if (b >= 0) { s -= rowS[b * bw + x]!; c -= rowC[b * bw + x]!; }
      if (y >= 0 && y < bh) { S[y * bw + x] = s; C[y * bw + x] = c; }
    }
  }
}

export type BoxMeanScratch = { S: Float64Array; C: Float64Array; s: Float64Array; c: Float64Array; rowS: Float64Array; rowC: Float64Array };

export function boxMeanScratch(box: Box3): BoxMeanScratch {
  const bn = (box.x1 - box.x0 + 1) * (box.y1 - box.y0 + 1);
  const f = () => new Float64Array(bn);
  return { S: f(), C: f(), s: f(), c: f(), rowS: f(), rowC: f() };
}

/**
 * One slice of the normalised box mean (the same filter as `denoiseSlab`, radius r in-plane and rz along
 * z) into `out` (box layout of one slice; lung voxels only). For a second, smaller box per slice without
 * a volume of its own.
 */
export function boxMeanSlice(hu: Int16Array, labels: Uint8Array, w: number, h: number, box: Box3, r: number, rz: number, z: number, out: Int16Array, k: BoxMeanScratch): void {
  const bw = box.x1 - box.x0 + 1, bh = box.y1 - box.y0 + 1;
  k.s.fill(0); k.c.fill(0);
  for (let zz = z - rz; zz <= z + rz; zz++) {
    planarSums(hu, labels, w, h, box, r, zz, k.S, k.C, k.rowS, k.rowC);
    for (let i = 0; i < k.s.length; i++) { k.s[i]! += k.S[i]!; k.c[i]! += k.C[i]!; }
  }
  const base = z * w * h;
  for (let y = 0; y < bh; y++) {
    const src = base + (box.y0 + y) * w + box.x0;
    for (let x = 0; x < bw; x++) {
      const i = y * bw + x;
      out[i] = labels[src + x] === LABEL.lung ? Math.round(k.s[i]! / k.c[i]!) : 0;
    }
  }
}
