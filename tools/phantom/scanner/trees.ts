/**
 * Branching, tapering intrapulmonary trees (pulmonary arteries, veins, airways), drawn two different ways
 * so that the two phantom families do not share vessel geometry:
 *
 * - `fibre` family: recursive random branching by territory splitting. Each branch owns a set of random
 *   points of the lung; it grows part-way toward their centroid, then splits them by a plane through the
 *   centroid (random tilt about the widest axis) and each half grows its own child. Radii follow Murray's
 *   law (r³ of the parent = Σ r³ of the children; Murray, PNAS 1926), the territory size playing the role
 *   of flow, so calibre tapers from ~6 mm at the hilum to ~0.4 mm at the periphery.
 * - `voronoi` family: space colonisation (Runions, Lane & Prusinkiewicz, "Modeling trees with a space
 *   colonization algorithm", 2007): attractor points pull the nearest tree node one step towards them and
 *   are removed when reached; radii then come from leaf counts by the same r³ rule.
 */
import type { DepthMap } from './depth-map.js';
import type { Rng } from './field.js';

export type Segment = { a: number[]; b: number[]; r0: number; r1: number };
type Vec = [number, number, number];

/** Uniform random points in one lung (side 1 right, 2 left) at least `minDepth` mm from the pleura. */
export function lungPoints(dm: DepthMap, rng: Rng, side: number, n: number, minDepth: number): Float64Array {
  const { x0, y0, z0, nx, ny, nz } = dm.bounds, s = dm.step;
  const out = new Float64Array(3 * n);
  let k = 0, tries = 0;
  while (k < n && tries < n * 400) {
    tries++;
    const x = x0 + rng.u() * (nx - 1) * s, y = y0 + rng.u() * (ny - 1) * s, z = z0 + rng.u() * (nz - 1) * s;
    if ((side === 1) !== (x < 0)) continue;
    if (dm.depth(x, y, z) <= minDepth) continue;
    out[3 * k] = x;
    out[3 * k + 1] = y;
    out[3 * k + 2] = z;
    k++;
  }
  return out.subarray(0, 3 * k);
}

const norm = (v: Vec): Vec => {
  const l = Math.hypot(v[0], v[1], v[2]) || 1;
  return [v[0] / l, v[1] / l, v[2] / l];
};

/** `fibre` family: territory-splitting recursive branching from `root`. */
export function recursiveTree(pts: Float64Array, root: Vec, dir: Vec, rootRadius: number, minRadius: number, rng: Rng): Segment[] {
  const segs: Segment[] = [];
  const n = pts.length / 3;
  const all = Array.from({ length: n }, (_, i) => i);
  const grow = (start: Vec, d: Vec, r: number, idx: number[]): void => {
    if (idx.length === 0) return;
    let cx = 0, cy = 0, cz = 0;
    for (const i of idx) {
      cx += pts[3 * i]!;
      cy += pts[3 * i + 1]!;
      cz += pts[3 * i + 2]!;
    }
    cx /= idx.length; cy /= idx.length; cz /= idx.length;
    const to: Vec = [cx - start[0], cy - start[1], cz - start[2]];
    const dist = Math.hypot(to[0], to[1], to[2]);
    const terminal = idx.length === 1 || r * 0.85 < minRadius;
    if (terminal) {
      addTortuous(segs, start, [cx, cy, cz], r, Math.max(minRadius * 0.9, r * 0.8), rng);
      return;
    }
    const u = norm(to);
    const nd = norm([0.7 * u[0] + 0.3 * d[0], 0.7 * u[1] + 0.3 * d[1], 0.7 * u[2] + 0.3 * d[2]]);
    const len = Math.min(45, Math.max(1.5, 0.5 * dist));
    const end: Vec = [start[0] + nd[0] * len, start[1] + nd[1] * len, start[2] + nd[2] * len];
    addTortuous(segs, start, end, r, r * 0.96, rng);
    // Split plane: normal along the widest axis of the territory, tilted at random.
    const vr = [0, 0, 0];
    for (const i of idx) for (let a = 0; a < 3; a++) vr[a]! += (pts[3 * i + a]! - [cx, cy, cz][a]!) ** 2;
    const w = vr.indexOf(Math.max(...vr));
    const nrm = norm([(w === 0 ? 1 : 0) + 0.35 * rng.gauss(), (w === 1 ? 1 : 0) + 0.35 * rng.gauss(), (w === 2 ? 1 : 0) + 0.35 * rng.gauss()]);
    const left: number[] = [], right: number[] = [];
    for (const i of idx) {
      const s = (pts[3 * i]! - cx) * nrm[0] + (pts[3 * i + 1]! - cy) * nrm[1] + (pts[3 * i + 2]! - cz) * nrm[2];
      (s < 0 ? left : right).push(i);
    }
    if (left.length === 0 || right.length === 0) {
      addTortuous(segs, end, [cx, cy, cz], r * 0.96, Math.max(minRadius, r * 0.8), rng);
      return;
    }
    const rr = r * 0.96;
    grow(end, nd, rr * Math.cbrt(left.length / idx.length), left);
    grow(end, nd, rr * Math.cbrt(right.length / idx.length), right);
  };
  grow(root, dir, rootRadius, all);
  return segs;
}

/** One branch as two capsules with a jittered midpoint, so long branches are not ruler-straight. */
function addTortuous(segs: Segment[], a: Vec, b: Vec, r0: number, r1: number, rng: Rng): void {
  const l = Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]);
  const j = 0.08 * l;
  const m = [(a[0] + b[0]) / 2 + j * rng.gauss(), (a[1] + b[1]) / 2 + j * rng.gauss(), (a[2] + b[2]) / 2 + j * rng.gauss()];
  const rm = (r0 + r1) / 2;
  segs.push({ a: [...a], b: m, r0, r1: rm }, { a: m, b: [...b], r0: rm, r1 });
}

/** `voronoi` family: space colonisation from `root` towards the attractors `pts`. */
export function colonisedTree(pts: Float64Array, root: Vec, rootRadius: number, minRadius: number, step: number): Segment[] {
  const na = pts.length / 3;
  const kill = 2 * step;
  const nodes: number[] = [...root];
  const parent: number[] = [-1];
  const nearest = new Int32Array(na);
  const nd = new Float64Array(na);
  const alive = new Uint8Array(na).fill(1);
  for (let a = 0; a < na; a++) nd[a] = Math.hypot(pts[3 * a]! - root[0], pts[3 * a + 1]! - root[1], pts[3 * a + 2]! - root[2]);
  let aliveCount = na;
  for (let iter = 0; iter < 600 && aliveCount > 0; iter++) {
    const nn = parent.length;
    const acc = new Map<number, Vec>();
    for (let a = 0; a < na; a++) {
      if (!alive[a]) continue;
      const i = nearest[a]!;
      const d = nd[a]! || 1;
      const v = acc.get(i) ?? [0, 0, 0];
      v[0] += (pts[3 * a]! - nodes[3 * i]!) / d;
      v[1] += (pts[3 * a + 1]! - nodes[3 * i + 1]!) / d;
      v[2] += (pts[3 * a + 2]! - nodes[3 * i + 2]!) / d;
      acc.set(i, v);
    }
    if (acc.size === 0) break;
    for (const [i, v] of [...acc].sort((p, q) => p[0] - q[0])) {
      const u = norm(v);
      nodes.push(nodes[3 * i]! + step * u[0], nodes[3 * i + 1]! + step * u[1], nodes[3 * i + 2]! + step * u[2]);
      parent.push(i);
    }
    let moved = false;
    for (let a = 0; a < na; a++) {
      if (!alive[a]) continue;
      const ax = pts[3 * a]!, ay = pts[3 * a + 1]!, az = pts[3 * a + 2]!;
      for (let j = nn; j < parent.length; j++) {
        const d = Math.hypot(ax - nodes[3 * j]!, ay - nodes[3 * j + 1]!, az - nodes[3 * j + 2]!);
        if (d < nd[a]!) {
          nd[a] = d;
          nearest[a] = j;
          moved = true;
        }
      }
      if (nd[a]! < kill) {
        alive[a] = 0;
        aliveCount--;
      }
    }
    if (!moved) break; // every remaining attractor is equidistant from growth that cannot reach it
  }
  // Radii from leaf counts (pipe model with Murray's cube law), scaled so the root has rootRadius.
  const n = parent.length;
  const cube = new Float64Array(n);
  const hasChild = new Uint8Array(n);
  for (let i = 1; i < n; i++) hasChild[parent[i]!] = 1;
  for (let i = n - 1; i >= 0; i--) {
    if (!hasChild[i]) cube[i] = 1;
    if (i > 0) cube[parent[i]!]! += cube[i]!;
  }
  const k = rootRadius / Math.cbrt(cube[0]!);
  const radius = (i: number): number => Math.max(minRadius, k * Math.cbrt(cube[i]!));
  const segs: Segment[] = [];
  for (let i = 1; i < n; i++) {
    const p = parent[i]!;
    segs.push({ a: [nodes[3 * p]!, nodes[3 * p + 1]!, nodes[3 * p + 2]!], b: [nodes[3 * i]!, nodes[3 * i + 1]!, nodes[3 * i + 2]!], r0: Math.min(radius(p), radius(i) * 1.1), r1: radius(i) });
  }
  return segs;
}
