/**
 * Where each pattern lies in the lung, and the parenchyma value there. Definitions follow the Fleischner
 * Society glossary (Hansell et al., Radiology 2008;246:697) and the ATS/ERS/JRS/ALAT IPF guideline
 * (Raghu et al., AJRCCM 2018;198:e44):
 * - UIP: reticulation subpleural and basal-predominant, often heterogeneous; honeycombing = clustered
 *   cystic airspaces of 3–10 mm (up to 2.5 cm), with well-defined walls 1–3 mm thick, in several layers
 *   against the pleura; traction bronchiectasis in the fibrotic band. Probable UIP: the same without
 *   honeycombing.
 * - NSIP: lower-zone ground glass (hazy increased attenuation that does not obscure the vessels) with
 *   fine reticulation, relatively sparing the immediate subpleural lung.
 * - Emphysema: centrilobular = upper-zone low-attenuation areas without visible walls, sparing the
 *   periphery; paraseptal = a single subpleural row of cysts with very thin walls.
 * A region is chosen per point from the pleural depth, the cranio-caudal fraction and smooth noise (so
 * the margins are irregular); the voronoi family also draws its textures here (stateless cell walls).
 */
import type { PhantomPattern } from '../../../shared/phantom/generate-phantom.js';
import type { Patient } from './anatomy.js';
import { makeRng, NoiseGrid, subSeed } from './field.js';
import type { DepthMap } from './depth-map.js';
import { LABEL, type ScannerFamily } from './types.js';
import { voronoi, type Cell } from './voronoi.js';

/** Per-seed severity, extent and texture sizes of the pattern. */
export type PatternParams = ReturnType<typeof drawPatternParams>;

export function drawPatternParams(seed: number) {
  const r = makeRng(subSeed(seed, 'pattern'));
  return {
    seed,
    reticBaseMm: r.between(10, 25), reticStartF: r.between(0.42, 0.55), reticPhi: r.between(0.13, 0.24), reticBgHu: r.between(15, 35),
    hcStartF: r.between(0.64, 0.72), hcDepthMm: r.between(10, 18), hcWallMm: r.between(1, 2.2), hcWallHu: r.between(-200, 0), hcPatch: r.between(-0.4, -0.15),
    reticCellMm: r.between(4, 7), hcCellMm: r.between(4.5, 6.5), hcEmpty: r.between(0.12, 0.28),
    tbCount: 8 + r.int(9),
    ggoStartF: r.between(0.4, 0.55), spareMm: r.between(3, 8), ggoDepthMm: r.between(28, 50), ggoHu: r.between(-700, -560), ggoPhi: r.between(0.03, 0.06),
    consCount: r.int(4),
    emphFraction: r.between(0.04, 0.14), emphMaxF: r.between(0.6, 0.7), emphSpareMm: r.between(3, 6), emphCellMm: r.between(4, 8),
    paraseptalPatches: 6 + r.int(9),
  };
}

/** Per-point geometry the regions depend on. */
export type Where = { x: number; y: number; z: number; d: number; f: number; yn: number; lat: number };
export type RegionOut = { label: number; hu: number; prio: number; clear: number };

export type Regions = {
  normalHu: (yn: number) => number;
  inBand: (w: Where) => boolean;
  inHoneycomb: (w: Where) => boolean;
  inGgo: (w: Where) => boolean;
  /** Label, background or texture value and its priority against objects, clearance. */
  evaluate: (w: Where, o: RegionOut) => void;
};

export function makeRegions(pattern: PhantomPattern, family: ScannerFamily, pp: PatternParams, patient: Patient, seed: number, dm: DepthMap): Regions {
  const depthAt = dm.depth;
  const fibrotic = pattern === 'uip' || pattern === 'probable_uip';
  const normalHu = (yn: number): number => patient.lungHu + patient.gradientHu * (yn - 0.5);
  const ramp = (f: number, f0: number, f1: number): number => (f <= f0 ? 0 : f >= f1 ? 1 : (f - f0) / (f1 - f0));
  const s1 = subSeed(seed, 'n1'), s2 = subSeed(seed, 'n2'), s3 = subSeed(seed, 'n3'), sv = subSeed(seed, 'vor');
  const b = dm.bounds, size: [number, number, number] = [b.nx * dm.step, b.ny * dm.step, b.nz * dm.step];
  const grid = (scale: number, sd: number): NoiseGrid =>
    new NoiseGrid(b.x0, b.y0, b.z0, pattern === 'normal' || pattern === 'emphysema' ? [1, 1, 1] : size, 3, scale, sd);
  const n1 = grid(25, s1), n2 = grid(20, s2), n3 = grid(22, s3), n4 = grid(20, s1 + 1), n5 = grid(15, s2 + 1);
  const valueNoise3 = (x: number, y: number, z: number, scale: number, sd: number): number =>
    sd === s1 ? (scale === 25 ? n1 : n4).sample(x, y, z) : sd === s2 ? (scale === 20 ? n2 : n5).sample(x, y, z) : n3.sample(x, y, z);
  const pl = (w: Where): number => Math.max(w.yn, w.lat); // posterior or lateral

  const bandDepth = (w: Where): number =>
    pp.reticBaseMm * ramp(w.f, pp.reticStartF, 0.92) ** 0.7 * (0.6 + 0.4 * pl(w)) * (1 + 0.3 * valueNoise3(w.x, w.y, w.z, 25, s1));
  const hcDepth = (w: Where): number => pp.hcDepthMm * (0.75 + 0.25 * ramp(w.f, pp.hcStartF, 0.95)) * (1 + 0.2 * valueNoise3(w.x, w.y, w.z, 20, s2));
  const inHoneycomb = (w: Where): boolean =>
    pattern === 'uip' && w.f > pp.hcStartF && pl(w) > 0.5 && w.d < hcDepth(w) && valueNoise3(w.x, w.y, w.z, 22, s3) > pp.hcPatch;
  const inBand = (w: Where): boolean => fibrotic && w.f > pp.reticStartF && (w.d < bandDepth(w) || inHoneycomb(w));
  const inGgo = (w: Where): boolean => {
    if (pattern !== 'nsip' || w.f < pp.ggoStartF) return false;
    const n = valueNoise3(w.x, w.y, w.z, 20, s1);
    return w.d > pp.spareMm * (1 + 0.15 * n) && w.d < pp.ggoDepthMm * ramp(w.f, pp.ggoStartF, 0.85) ** 0.5 * (1 + 0.3 * n);
  };
  // Voronoi reticulation: wall volume fraction ≈ 2.91·t / cell (surface density of a Poisson–Voronoi
  // tessellation, S_V ≈ 2.91 λ^{1/3}); three quarters of the added density is walls, the rest lines.
  const tMean = Math.min(1.5, Math.max(0.3, (0.75 * pp.reticPhi * pp.reticCellMm) / 2.91));
  const pMax = Math.min(0.95, pp.emphFraction / 0.14);
  const c: Cell = { wall: 0, cellHash: 0, pairHash: 0, sx: 0, sy: 0, sz: 0 };

  const evaluate = (w: Where, o: RegionOut): void => {
    o.label = LABEL.normal;
    o.hu = normalHu(w.yn);
    o.prio = 0;
    o.clear = Infinity;
    if (fibrotic && w.f > pp.reticStartF) {
      if (inHoneycomb(w)) {
        o.label = LABEL.honeycombing;
        if (family === 'fibre') {
          o.hu = -450; // fibrotic tissue between the cysts (cysts are objects)
          return;
        }
        // Voronoi honeycomb: every cell is an air cyst inside walls 1–3 mm; a wall closes the cluster
        // on its deep side so no cyst is open to the normal lung.
        voronoi(w.x, w.y, w.z, pp.hcCellMm, pp.hcEmpty, sv, c);
        const t = pp.hcWallMm * (0.7 + 0.6 * c.pairHash);
        const deep = hcDepth(w) - w.d;
        const wd = Math.min(c.wall - t / 2, deep - t);
        o.clear = Math.abs(wd);
        if (wd < 0) {
          o.hu = pp.hcWallHu;
          o.prio = 6;
        } else {
          o.hu = -1000;
          o.prio = 7;
        }
        return;
      }
      if (w.d < bandDepth(w)) {
        o.label = LABEL.reticulation;
        o.hu += pp.reticBgHu;
        if (family === 'voronoi') {
          voronoi(w.x, w.y, w.z, pp.reticCellMm, 0, sv + 5, c);
          const t = Math.max(0.3, tMean * (0.5 + c.pairHash));
          o.clear = Math.abs(c.wall - t / 2);
          if (c.wall < t / 2) {
            o.hu = 25;
            o.prio = 2;
          }
        }
        return;
      }
    }
    if (pattern === 'nsip' && inGgo(w)) {
      o.label = LABEL.groundGlass;
      o.hu = pp.ggoHu + 15 * valueNoise3(w.x, w.y, w.z, 15, s2) + 0.3 * patient.gradientHu * (w.yn - 0.5);
      if (family === 'voronoi') {
        // Fine reticulation: a sparse subset of thin cell walls.
        voronoi(w.x, w.y, w.z, 6, 0, sv + 9, c);
        if (c.pairHash < 0.35) {
          o.clear = Math.abs(c.wall - 0.18);
          if (c.wall < 0.18) {
            o.hu = 0;
            o.prio = 2;
          }
        }
      }
      return;
    }
    if (pattern === 'emphysema' && family === 'voronoi' && w.f < pp.emphMaxF && w.d > pp.emphSpareMm) {
      // Centrilobular holes: whole Voronoi cells emptied, without walls; neighbouring chosen cells merge.
      voronoi(w.x, w.y, w.z, pp.emphCellMm, 0.1, sv + 13, c);
      const p = pMax * (1 - w.f / pp.emphMaxF) ** 2;
      if (c.cellHash < 0.1 + 0.9 * p && depthAt(c.sx, c.sy, c.sz) > pp.emphSpareMm + 2) {
        o.clear = Math.abs(c.wall - 0.4);
        if (c.wall > 0.4) {
          o.label = LABEL.emphysema;
          o.hu = -990 + 20 * c.pairHash;
          o.prio = 4;
        }
      }
    }
  };
  return { normalHu, inBand, inHoneycomb, inGgo, evaluate };
}
