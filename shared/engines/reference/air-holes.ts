/**
 * Air holes in the lung — voxels whose denoised density is nearer air than parenchyma — grouped into 3D
 * components and told apart by shape (docs/reference-engine.md, "Cysts and tubes"): an airway lumen is a
 * tube, long against its width; honeycomb cysts and emphysema are round or clustered. The shape comes from
 * each component's second moments in millimetres (the eigenvalues of its covariance: a cylinder of length
 * L has λ₁ = L²/12 along its axis and λ₂ = r²/4 across it).
 */
import { LABEL } from './body.js';
import { findRuns } from './runs3d.js';
import type { Box3, DenoisedLungs } from './denoise.js';

export const HOLE = { none: 0, round: 1, tube: 2 } as const;

/** A tube is long against its width: λ₁/λ₂ = (L/r)²/3 ≥ 6, i.e. at least about two diameters long. A
 *  dilated bronchus in fibrosis is 2–6 mm wide and seen for 1–2 cm (a 6 mm one over 12 mm is two
 *  diameters); the earlier three diameters (ratio 12) missed the wide ones, and probable UIP with them. */
const TUBE_EIGEN_RATIO = 6;
/** …and at least this long: a bronchus followed over a few of its diameters. */
const TUBE_MIN_LENGTH_MM = 8;

export type HoleInput = DenoisedLungs & Readonly<{
  /** The hole level per image row (HU): below it, a lung voxel is air. */
  levels: Float64Array;
  /** Whether single voxels are quiet enough to be thresholded too (a 3 × 3 majority of raw voxels). */
  fine: boolean;
  /** Output, box layout: 1 where a lung voxel is an air hole. */
  holes: Uint8Array;
}>;

/**
 * Air holes (1) on slice z of the box: lung voxels whose denoised density is below the row's level and,
 * when `fine`, a 3 × 3 majority of raw voxels below it too, so cysts a few voxels across are not erased
 * by the denoising box.
 */
export function markHolesSlice({ hu, labels, w, h, box, denoised, levels, fine, holes }: HoleInput, z: number): void {
  const bw = box.x1 - box.x0 + 1, bh = box.y1 - box.y0 + 1, bn = bw * bh;
  const base = z * w * h, o = (z - box.z0) * bn;
  for (let y = 0; y < bh; y++) {
    const gy = box.y0 + y;
    const level = levels[gy]!;
    const src = base + gy * w + box.x0;
    for (let x = 0; x < bw; x++) {
      if (labels[src + x] !== LABEL.lung) continue;
      if (denoised[o + y * bw + x]! < level) { holes[o + y * bw + x] = 1; continue; }
      if (!fine || hu[src + x]! >= level) continue;
      let below = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = gy + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = box.x0 + x + dx;
          if (xx >= 0 && xx < w && hu[base + yy * w + xx]! < level) below++;
        }
      }
      if (below >= 5) holes[o + y * bw + x] = 1;
    }
  }
}

/**
 * @param holes - 1 where a lung voxel of the box is an air hole; rewritten in place to HOLE values.
 * @returns voxels in tubes, and the typical diameter of the round holes (voxel-weighted median of each
 *   component's in-plane equivalent diameter: the cyst size that decides what "one layer" is).
 */
export function classifyHoles(holes: Uint8Array, box: Box3, spacing: readonly [number, number, number]): { tubeVoxels: number; cystDiameterMm: number } {
  const bw = box.x1 - box.x0 + 1, bh = box.y1 - box.y0 + 1, bd = box.z1 - box.z0 + 1;
  const runs = findRuns(holes, bw, bh, bd, 1);
  let m = 0;
  for (let k = 0; k < runs.count; k++) m = Math.max(m, runs.comp[k]! + 1);
  // moments: n, Σx, Σy, Σz, Σxx, Σyy, Σzz, Σxy, Σxz, Σyz (mm)
  const mo = new Float64Array(10 * m);
  const zMin = new Int32Array(m).fill(1 << 30), zMax = new Int32Array(m).fill(-1);
  const [sx, sy, sz] = spacing;
  for (let k = 0; k < runs.count; k++) {
    const c = runs.comp[k]! * 10;
    const zi = Math.floor(runs.row[k]! / bh);
    const y = (runs.row[k]! % bh) * sy, z = zi * sz;
    if (zi < zMin[c / 10]!) zMin[c / 10] = zi;
    if (zi > zMax[c / 10]!) zMax[c / 10] = zi;
    for (let xi = runs.x0[k]!; xi <= runs.x1[k]!; xi++) {
      const x = xi * sx;
      mo[c]!++; mo[c + 1]! += x; mo[c + 2]! += y; mo[c + 3]! += z;
      mo[c + 4]! += x * x; mo[c + 5]! += y * y; mo[c + 6]! += z * z;
      mo[c + 7]! += x * y; mo[c + 8]! += x * z; mo[c + 9]! += y * z;
    }
  }
  const tube = new Uint8Array(m);
  let tubeVoxels = 0;
  for (let c = 0; c < m; c++) {
    const o = c * 10, nn = mo[o]!;
    if (nn < 8) continue;
    const mx = mo[o + 1]! / nn, my = mo[o + 2]! / nn, mz = mo[o + 3]! / nn;
    const cxx = mo[o + 4]! / nn - mx * mx, cyy = mo[o + 5]! / nn - my * my, czz = mo[o + 6]! / nn - mz * mz;
    const cxy = mo[o + 7]! / nn - mx * my, cxz = mo[o + 8]! / nn - mx * mz, cyz = mo[o + 9]! / nn - my * mz;
    const [l1, l2] = eigenvalues(cxx, cyy, czz, cxy, cxz, cyz);
    if (l1 >= TUBE_EIGEN_RATIO * Math.max(l2, 1e-6) && Math.sqrt(12 * l1) >= TUBE_MIN_LENGTH_MM) { tube[c] = 1; tubeVoxels += nn; }
  }
  // Typical round-hole size: in-plane area per slice → equivalent diameter, voxel-weighted median.
  const sizes: { d: number; n: number }[] = [];
  let roundVoxels = 0;
  for (let c = 0; c < m; c++) {
    if (tube[c] || mo[c * 10]! < 4) continue;
    const area = (mo[c * 10]! / (zMax[c]! - zMin[c]! + 1)) * sx * sy;
    sizes.push({ d: Math.sqrt((4 * area) / Math.PI), n: mo[c * 10]! });
    roundVoxels += mo[c * 10]!;
  }
  sizes.sort((a, b) => a.d - b.d);
  let acc = 0, cystDiameterMm = 0;
  for (const e of sizes) { acc += e.n; if (acc >= roundVoxels / 2) { cystDiameterMm = e.d; break; } }
  for (let k = 0; k < runs.count; k++) {
    if (!tube[runs.comp[k]!]) continue;
    const o = runs.row[k]! * bw;
    holes.fill(HOLE.tube, o + runs.x0[k]!, o + runs.x1[k]! + 1);
  }
  return { tubeVoxels, cystDiameterMm: Math.round(cystDiameterMm * 10) / 10 };
}

/** The two largest eigenvalues of a symmetric 3 × 3 matrix (trigonometric solution of the cubic). */
function eigenvalues(a: number, b: number, c: number, d: number, e: number, f: number): [number, number] {
  // matrix [[a, d, e], [d, b, f], [e, f, c]]
  const p1 = d * d + e * e + f * f;
  const q = (a + b + c) / 3;
  if (p1 < 1e-12) { const s = [a, b, c].sort((x, y) => y - x); return [s[0]!, s[1]!]; }
  const p2 = (a - q) ** 2 + (b - q) ** 2 + (c - q) ** 2 + 2 * p1;
  const p = Math.sqrt(p2 / 6);
  const B = [(a - q) / p, d / p, e / p, d / p, (b - q) / p, f / p, e / p, f / p, (c - q) / p] as const;
  const det = B[0] * (B[4] * B[8] - B[5] * B[7]) - B[1] * (B[3] * B[8] - B[5] * B[6]) + B[2] * (B[3] * B[7] - B[4] * B[6]);
  const r = Math.max(-1, Math.min(1, det / 2));
  const phi = Math.acos(r) / 3;
  const e1 = q + 2 * p * Math.cos(phi);
  const e3 = q + 2 * p * Math.cos(phi + (2 * Math.PI) / 3);
  return [e1, 3 * q - e1 - e3];
}
