/**
 * Exact 3D Euclidean distance from each lung voxel to the pleura (the nearest voxel that is not lung),
 * in millimetres with anisotropic spacing: the separable lower-envelope transform of Felzenszwalb and
 * Huttenlocher ("Distance transforms of sampled functions", Theory of Computing 2012). The z pass is done
 * once for the bounding box (slice counts, one byte per voxel); the y and x passes are done per slice
 * when that slice is classified, so only one slice of distances exists at a time. Beyond the first or
 * last slice the lung is taken to continue (a scan that cuts the apex has no pleura there).
 */
import { LABEL } from './body.js';
import type { Box3 } from './denoise.js';
import { sharedArray } from './threads.js';

const CAP = 255;

/** Slices from each voxel to the nearest non-lung voxel along z, capped at 255. */
export function zDistances(labels: Uint8Array, w: number, h: number, d: number, box: Box3): Uint8Array {
  const bw = box.x1 - box.x0 + 1, bh = box.y1 - box.y0 + 1, bd = box.z1 - box.z0 + 1;
  const bn = bw * bh;
  const out = sharedArray(Uint8Array, bn * bd);
  const run = new Uint8Array(bn).fill(box.z0 === 0 ? CAP : 0);
  for (let z = box.z0; z <= box.z1; z++) {
    const base = z * w * h, o = (z - box.z0) * bn;
    for (let y = 0; y < bh; y++) {
      const src = base + (box.y0 + y) * w + box.x0;
      for (let x = 0; x < bw; x++) {
        const i = y * bw + x;
        const v = labels[src + x] === LABEL.lung ? Math.min(CAP, run[i]! + 1) : 0;
        run[i] = v; out[o + i] = v;
      }
    }
  }
  run.fill(box.z1 === d - 1 ? CAP : 0);
  for (let z = box.z1; z >= box.z0; z--) {
    const o = (z - box.z0) * bn;
    for (let i = 0; i < bn; i++) {
      const cur = out[o + i]!;
      const v = cur === 0 ? 0 : Math.min(CAP, run[i]! + 1);
      run[i] = v;
      if (v < cur) out[o + i] = v;
    }
  }
  return out;
}

/** Scratch for one slice's transform; reuse across slices. */
export type DistanceScratch = { f: Float64Array; d: Float64Array; v: Int32Array; zk: Float64Array; g: Float64Array };

export function distanceScratch(bw: number, bh: number): DistanceScratch {
  const m = Math.max(bw, bh) + 1;
  return { f: new Float64Array(m), d: new Float64Array(m), v: new Int32Array(m), zk: new Float64Array(m + 1), g: new Float64Array(bw * bh) };
}

/**
 * Distance (mm) from each voxel centre of slice z to the nearest non-lung voxel centre, into `out`
 * (bw × bh). The pleural surface lies half a voxel closer; callers subtract it.
 */
export function sliceDistances(zd: Uint8Array, bw: number, bh: number, zIndex: number, sx: number, sy: number, sz: number, s: DistanceScratch, out: Float32Array): void {
  // Each loop is a function of its own: V8 optimises a long-running loop on the stack (OSR) and, in a
  // function whose later loops have not run yet, throws that code away at the next loop on every call.
  zSquared(zd, zIndex * bw * bh, bw * bh, sz, s.g);
  squaredDistance2D(s.g, bw, bh, sx, sy, s);
  squareRoots(s.g, bw * bh, out);
}

function zSquared(zd: Uint8Array, o: number, bn: number, sz: number, g: Float64Array): void {
  const BIG = 1e12;
  for (let i = 0; i < bn; i++) {
    const k = zd[o + i]!;
    g[i] = k >= CAP ? BIG : (k * sz) ** 2;
  }
}

function squareRoots(g: Float64Array, n: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(g[i]!);
}

/**
 * In place: g (bw × bh, 0 at features, a large value elsewhere, or squared distances along z) becomes the
 * squared Euclidean distance (mm²) to the nearest feature, by the y then x lower-envelope passes.
 */
export function squaredDistance2D(g: Float64Array, bw: number, bh: number, sx: number, sy: number, s: DistanceScratch): void {
  for (let x = 0; x < bw; x++) {
    for (let y = 0; y < bh; y++) s.f[y] = g[y * bw + x]!;
    lineTransform(s, bh, sy);
    for (let y = 0; y < bh; y++) g[y * bw + x] = s.d[y]!;
  }
  for (let y = 0; y < bh; y++) {
    const row = y * bw;
    for (let x = 0; x < bw; x++) s.f[x] = g[row + x]!;
    lineTransform(s, bw, sx);
    for (let x = 0; x < bw; x++) g[row + x] = s.d[x]!;
  }
}

/**
 * 1D squared distance transform of s.f[0..n) into s.d, one run between features at a time. The features
 * (f = 0) split the line: beyond the nearest feature on either side, every sample is farther than that
 * feature, so each run's answer needs only the run and its two bounding features — the work follows the
 * lung, not the box (after the y pass, too, the zeros are exactly the non-lung voxels).
 */
function lineTransform(s: DistanceScratch, n: number, step: number): void {
  const { f, d } = s;
  let q = 0;
  while (q < n) {
    if (f[q] === 0) { d[q++] = 0; continue; }
    const a = q;
    while (q < n && f[q] !== 0) q++;
    envelope(s, a > 0 ? a - 1 : a, q < n ? q : q - 1, step);
  }
}

/** The lower envelope of the parabolas of s.f[lo..hi] with sample spacing `step`, into s.d[lo..hi]. */
function envelope(s: DistanceScratch, lo: number, hi: number, step: number): void {
  const { f, d, v, zk } = s;
  const s2 = step * step;
  const n = hi - lo + 1;
  let k = 0;
  v[0] = 0; zk[0] = -Infinity; zk[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let p = v[k]!;
    let sq = (f[lo + q]! + s2 * q * q - (f[lo + p]! + s2 * p * p)) / (2 * s2 * (q - p));
    while (sq <= zk[k]!) {
      k--;
      p = v[k]!;
      sq = (f[lo + q]! + s2 * q * q - (f[lo + p]! + s2 * p * p)) / (2 * s2 * (q - p));
    }
    k++;
    v[k] = q; zk[k] = sq; zk[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (zk[k + 1]! < q) k++;
    const p = v[k]!;
    d[lo + q] = s2 * (q - p) * (q - p) + f[lo + p]!;
  }
}
