/**
 * The pattern objects placed once per phantom into the object index: reticular fibres, honeycomb cysts
 * (fibre family), traction bronchiectasis, centrilobular holes (fibre family), paraseptal cysts,
 * consolidations. Positions are drawn from pools of depth-map grid points inside each region, jittered
 * and re-tested at full resolution.
 */
import type { DepthMap } from './depth-map.js';
import type { Rng } from './field.js';
import { KIND, type ObjectIndex } from './objects.js';
import type { PatternParams, Regions, Where } from './regions.js';

export type WhereFn = (x: number, y: number, z: number, w: Where) => void;

/** Grid points (x, y, z triples) of a region, and its volume in mm³. */
export type Pool = { pts: number[]; volume: number };

/** Draws a point of `pool` (jittered within its grid cell) that still satisfies `pred`. */
function draw(pool: Pool, rng: Rng, step: number, where: WhereFn, pred: (w: Where) => boolean, w: Where, tries = 20): boolean {
  const n = pool.pts.length / 3;
  if (n === 0) return false;
  for (let t = 0; t < tries; t++) {
    const i = rng.int(n);
    where(pool.pts[3 * i]! + (rng.u() - 0.5) * step, pool.pts[3 * i + 1]! + (rng.u() - 0.5) * step, pool.pts[3 * i + 2]! + (rng.u() - 0.5) * step, w);
    if (pred(w)) return true;
  }
  return false;
}

const unit = (rng: Rng): [number, number, number] => {
  const z = 2 * rng.u() - 1, a = 2 * Math.PI * rng.u(), s = Math.sqrt(1 - z * z);
  return [s * Math.cos(a), s * Math.sin(a), z];
};

export type Ctx = { index: ObjectIndex; rng: Rng; dm: DepthMap; where: WhereFn; regions: Regions; pp: PatternParams };

/** Random fibres (cylinders with random 3-D orientation) until their volume reaches `phi` of the pool's. */
export function addFibres(c: Ctx, pool: Pool, pred: (w: Where) => boolean, phi: number, r: [number, number], len: [number, number], hu: [number, number]): number {
  const w = {} as Where;
  let vol = 0, n = 0;
  const target = phi * pool.volume;
  for (let guard = 0; vol < target && guard < 2_000_000; guard++) {
    if (!draw(pool, c.rng, c.dm.step, c.where, pred, w)) break;
    const d = unit(c.rng);
    const l = c.rng.between(len[0], len[1]);
    const rad = r[0] + (r[1] - r[0]) * c.rng.u() ** 3; // mostly thin, a few thick
    c.index.add({ a: [w.x - (d[0] * l) / 2, w.y - (d[1] * l) / 2, w.z - (d[2] * l) / 2], b: [w.x + (d[0] * l) / 2, w.y + (d[1] * l) / 2, w.z + (d[2] * l) / 2], r0: rad, r1: rad, wall: 0, hu: c.rng.between(hu[0], hu[1]), wallHu: 0, kind: KIND.fibre });
    vol += Math.PI * rad * rad * l;
    n++;
  }
  return n;
}

/**
 * Honeycombing, fibre family: non-overlapping walled air spheres (neighbours share a wall) packed by
 * rejection sampling, largest first, half of the attempts pushed against the pleura so the cysts
 * stack in rows from the pleura inwards.
 */
export function addHoneycombCysts(c: Ctx, pool: Pool): number {
  const { rng, pp } = c;
  const radii: number[] = [];
  for (let v = 0; v < 0.62 * pool.volume; ) {
    const r = rng.u() < 0.88 ? rng.between(1.5, 5) : rng.between(5, 12.5); // diameters mostly 3–10 mm
    radii.push(r);
    v += (4 / 3) * Math.PI * r ** 3;
  }
  radii.sort((a, b) => b - a);
  const cellMm = 26;
  const grid = new Map<string, number[]>();
  const key = (x: number, y: number, z: number): string => `${Math.floor(x / cellMm)},${Math.floor(y / cellMm)},${Math.floor(z / cellMm)}`;
  const w = {} as Where, q = {} as Where, g = [0, 0, 0];
  let placed = 0;
  for (const r of radii) {
    const wall = pp.hcWallMm * rng.between(0.7, 1.3);
    // Enough attempts that the clusters pack densely (cysts fill 50–70 % of honeycombing, Hansell 2008).
    for (let t = 0; t < 400; t++) {
      if (!draw(pool, rng, c.dm.step, c.where, c.regions.inHoneycomb, w, 5)) break;
      let x = w.x, y = w.y, z = w.z;
      c.dm.gradient(x, y, z, g);
      if (t % 2 === 0) {
        const move = r + 0.3 - w.d; // against the pleura
        x += g[0]! * move; y += g[1]! * move; z += g[2]! * move;
      }
      c.where(x, y, z, q);
      if (q.d < r * 0.85 || !c.regions.inHoneycomb(q)) continue;
      c.where(x + g[0]! * r * 0.7, y + g[1]! * r * 0.7, z + g[2]! * r * 0.7, q);
      if (!c.regions.inHoneycomb(q)) continue;
      let free = true;
      const [ci, cj, ck] = key(x, y, z).split(',').map(Number) as [number, number, number];
      for (let dk = -1; dk <= 1 && free; dk++)
        for (let dj = -1; dj <= 1 && free; dj++)
          for (let di = -1; di <= 1 && free; di++) {
            const list = grid.get(`${ci + di},${cj + dj},${ck + dk}`);
            if (!list) continue;
            for (let s = 0; s < list.length; s += 5) {
              const gap = Math.hypot(x - list[s]!, y - list[s + 1]!, z - list[s + 2]!) - r - list[s + 3]!;
              if (gap < -Math.min(wall, list[s + 4]!)) {
                free = false;
                break;
              }
            }
          }
      if (!free) continue;
      const k = key(x, y, z);
      const list = grid.get(k) ?? [];
      list.push(x, y, z, r, wall);
      grid.set(k, list);
      c.index.add({ a: [x, y, z], b: [x, y, z], r0: r, r1: r, wall, hu: -1000, wallHu: pp.hcWallHu + rng.between(-30, 30), kind: KIND.cyst });
      placed++;
      break;
    }
  }
  return placed;
}

/** Traction bronchiectasis: dilated, non-tapering airways (lumen 2–6 mm, with walls) that run through
 *  the fibrotic band towards the pleura and end within ~10 mm of it. */
export function addTractionBronchiectasis(c: Ctx, pool: Pool): number {
  const { rng, pp, dm } = c;
  const w = {} as Where, g = [0, 0, 0];
  let made = 0;
  for (let i = 0; i < pp.tbCount; i++) {
    if (!draw(pool, rng, dm.step, c.where, (q) => c.regions.inBand(q) && q.f > pp.reticStartF + 0.1, w)) continue;
    dm.gradient(w.x, w.y, w.z, g);
    const back = rng.between(8, 18);
    let p = [w.x + g[0]! * back, w.y + g[1]! * back, w.z + g[2]! * back];
    if (dm.depth(p[0]!, p[1]!, p[2]!) < 4) p = [w.x, w.y, w.z];
    const lumen = rng.between(1, 3), wall = rng.between(0.8, 1.5);
    const end = Math.max(rng.between(3, 9), lumen + wall + 0.5);
    let grew = false;
    for (let s = 0; s < 10; s++) {
      const d = dm.depth(p[0]!, p[1]!, p[2]!);
      if (d <= end + 0.5) break;
      dm.gradient(p[0]!, p[1]!, p[2]!, g);
      const dir = [-g[0]! + 0.25 * rng.gauss(), -g[1]! + 0.25 * rng.gauss(), -g[2]! + 0.25 * rng.gauss()];
      const l = Math.hypot(dir[0]!, dir[1]!, dir[2]!) || 1;
      const len = Math.min(rng.between(4, 7), Math.max(1, (d - end) * 1.1));
      const q = [p[0]! + (dir[0]! / l) * len, p[1]! + (dir[1]! / l) * len, p[2]! + (dir[2]! / l) * len];
      const r0 = lumen * (1 + 0.03 * s) + wall;
      c.index.add({ a: p, b: q, r0, r1: r0 + 0.03 * lumen, wall, hu: -1000, wallHu: rng.between(0, 40), kind: KIND.airway });
      p = q;
      grew = true;
    }
    if (grew) made++;
  }
  return made;
}

/** Centrilobular emphysema, fibre family: lobulated holes (1–3 overlapping spheres, 2–15 mm) without
 *  walls, density decreasing from the apex, sparing the outer few millimetres. */
export function addEmphysemaHoles(c: Ctx, pool: Pool, lungVolumeMm3: number): number {
  const { rng, pp } = c;
  const w = {} as Where;
  let vol = 0, n = 0;
  const target = pp.emphFraction * lungVolumeMm3;
  for (let guard = 0; vol < target && guard < 200_000; guard++) {
    const r = Math.exp(Math.log(1) + rng.u() * Math.log(7.5));
    if (!draw(pool, rng, c.dm.step, c.where, (q) => q.f < pp.emphMaxF && q.d > r + pp.emphSpareMm, w, 4)) continue;
    if (rng.u() > (1 - w.f / pp.emphMaxF) ** 2) continue; // upper-zone predominance
    const hu = rng.between(-990, -970);
    c.index.add({ a: [w.x, w.y, w.z], b: [w.x, w.y, w.z], r0: r, r1: r, wall: 0, hu, wallHu: hu, kind: KIND.emphysema });
    vol += (4 / 3) * Math.PI * r ** 3;
    for (let s = rng.int(3); s > 0; s--) {
      const d = unit(rng), rs = r * rng.between(0.4, 0.7);
      c.index.add({ a: [w.x + d[0] * r * 0.7, w.y + d[1] * r * 0.7, w.z + d[2] * r * 0.7], b: [w.x + d[0] * r * 0.7, w.y + d[1] * r * 0.7, w.z + d[2] * r * 0.7], r0: rs, r1: rs, wall: 0, hu, wallHu: hu, kind: KIND.emphysema });
      vol += 0.5 * (4 / 3) * Math.PI * rs ** 3;
    }
    n++;
  }
  return n;
}

/** Paraseptal emphysema: rows of thin-walled (≤ 1 mm) subpleural cysts in the upper zones. */
export function addParaseptal(c: Ctx, pool: Pool): number {
  const { rng, pp, dm } = c;
  const w = {} as Where, g = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < pp.paraseptalPatches; p++) {
    if (!draw(pool, rng, dm.step, c.where, (q) => q.f < 0.45 && q.d < 4, w)) continue;
    let x = w.x, y = w.y, z = w.z;
    let t = unit(rng);
    const count = 3 + rng.int(7);
    for (let i = 0; i < count; i++) {
      const r = rng.between(2.5, 6), wall = rng.between(0.3, 0.9);
      dm.gradient(x, y, z, g);
      const move = r + 0.2 - dm.depth(x, y, z);
      x += g[0]! * move; y += g[1]! * move; z += g[2]! * move;
      if (dm.depth(x, y, z) < r * 0.7) break;
      c.index.add({ a: [x, y, z], b: [x, y, z], r0: r, r1: r, wall, hu: -995, wallHu: rng.between(-60, 0), kind: KIND.paraseptal });
      n++;
      // Step along the pleura: the tangent is the previous direction with its normal part removed.
      const dot = t[0] * g[0]! + t[1] * g[1]! + t[2] * g[2]!;
      const tt: [number, number, number] = [t[0] - dot * g[0]!, t[1] - dot * g[1]!, t[2] - dot * g[2]!];
      const l = Math.hypot(...tt) || 1;
      t = [tt[0] / l, tt[1] / l, tt[2] / l];
      const stepMm = 2 * r + rng.between(0, 2);
      x += t[0] * stepMm; y += t[1] * stepMm; z += t[2] * stepMm;
    }
  }
  return n;
}

/** A few small consolidations (organising-pneumonia overlap) deep in the posterior bases of NSIP. */
export function addConsolidations(c: Ctx, pool: Pool): number {
  const { rng, pp } = c;
  const w = {} as Where;
  let n = 0;
  for (let i = 0; i < pp.consCount; i++) {
    if (!draw(pool, rng, c.dm.step, c.where, (q) => c.regions.inGgo(q) && q.f > 0.65 && q.yn > 0.55 && q.d > 15, w, 60)) continue;
    const hu = rng.between(20, 50);
    for (let s = 0; s < 3; s++) {
      const d = unit(rng), off = s === 0 ? 0 : rng.between(3, 7), r = rng.between(4, 10);
      const p = [w.x + d[0] * off, w.y + d[1] * off, w.z + d[2] * off];
      c.index.add({ a: p, b: p, r0: r, r1: r, wall: 0, hu, wallHu: hu, kind: KIND.consolidation });
    }
    n++;
  }
  return n;
}
