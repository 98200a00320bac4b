/**
 * The complete analytic model of one phantom: anatomy, depth map, pattern regions, vessel and airway
 * trees and pattern objects, and `evaluate(x, y, z)` — the HU and label at a patient-space point, before
 * any imaging physics. Everything random is drawn here, once, from named sub-streams of the seed.
 */
import type { PhantomPattern } from '../../../shared/phantom/generate-phantom.js';
import { LANDMARKS, makeAnatomy, type Anatomy, type Patient } from './anatomy.js';
import { buildDepthMap, type DepthMap } from './depth-map.js';
import { makeRng, subSeed } from './field.js';
import { KIND, ObjectIndex, type Hit } from './objects.js';
import { addConsolidations, addEmphysemaHoles, addFibres, addHoneycombCysts, addParaseptal, addTractionBronchiectasis, type Ctx, type Pool } from './pattern-objects.js';
import { drawPatient } from './patient.js';
import { drawPatternParams, makeRegions, type RegionOut, type Where } from './regions.js';
import { colonisedTree, lungPoints, recursiveTree, type Segment } from './trees.js';
import { LABEL, type Sample, type ScannerFamily } from './types.js';

export type Model = {
  patient: Patient;
  anatomy: Anatomy;
  depthMap: DepthMap;
  evaluate: (x: number, y: number, z: number, o: Sample) => void;
  tractionBronchiectasis: boolean;
  objectCount: number;
};

const VESSEL_HU = 40;

export function buildModel(seed: number, family: ScannerFamily, pattern: PhantomPattern, lungScale?: number): Model {
  const patient = drawPatient(seed, lungScale);
  const anatomy = makeAnatomy(patient);
  const dm = buildDepthMap(anatomy);
  const pp = drawPatternParams(seed);
  const regions = makeRegions(pattern, family, pp, patient, seed, dm);
  const yFront = patient.yBody - patient.cb * patient.sxy, ap = 2 * patient.cb * patient.sxy, half = patient.ca * patient.sxy;
  const zSpan = Math.max(1, dm.zTop - dm.zBottom);
  const needDepth = pattern !== 'normal';
  const where = (x: number, y: number, z: number, w: Where): void => {
    w.x = x; w.y = y; w.z = z;
    w.d = dm.depth(x, y, z);
    w.f = Math.min(1, Math.max(0, (dm.zTop - z) / zSpan));
    w.yn = Math.min(1, Math.max(0, (y - yFront) / ap));
    w.lat = Math.min(1, Math.abs(x) / half);
  };

  const index = new ObjectIndex(2);
  addTrees(index, anatomy, dm, family, seed);

  // Region pools from the depth-map grid, one pass.
  const pools = { band: pool(), hc: pool(), ggo: pool(), upper: pool(), pleuralUpper: pool() };
  const cell = dm.step ** 3;
  let lungMm3 = 0;
  const w = {} as Where;
  dm.forEach((x, y, z, d) => {
    where(x, y, z, w);
    w.d = d;
    lungMm3 += cell;
    if (pattern === 'uip' || pattern === 'probable_uip') {
      if (regions.inBand(w)) push(pools.band, x, y, z, cell);
      if (regions.inHoneycomb(w)) push(pools.hc, x, y, z, cell);
    } else if (pattern === 'nsip') {
      if (regions.inGgo(w)) push(pools.ggo, x, y, z, cell);
    } else if (pattern === 'emphysema') {
      if (w.f < pp.emphMaxF) push(pools.upper, x, y, z, cell);
      if (w.f < 0.45 && d < 4) push(pools.pleuralUpper, x, y, z, cell);
    }
  });
  const ctx: Ctx = { index, rng: makeRng(subSeed(seed, `objects-${family}-${pattern}`)), dm, where, regions, pp };
  let traction = 0;
  if (pattern === 'uip' || pattern === 'probable_uip') {
    const phi = family === 'fibre' ? pp.reticPhi : 0.25 * pp.reticPhi;
    addFibres(ctx, pools.band, regions.inBand, phi, [0.15, 0.75], [3, 10], [0, 50]);
    if (pattern === 'uip' && family === 'fibre') addHoneycombCysts(ctx, pools.hc);
    traction = addTractionBronchiectasis(ctx, pools.band);
  } else if (pattern === 'nsip') {
    if (family === 'fibre') addFibres(ctx, pools.ggo, regions.inGgo, pp.ggoPhi, [0.15, 0.3], [3, 8], [-50, 20]);
    addConsolidations(ctx, pools.ggo);
  } else if (pattern === 'emphysema') {
    if (family === 'fibre') addEmphysemaHoles(ctx, pools.upper, lungMm3);
    addParaseptal(ctx, pools.pleuralUpper);
  }
  index.build();

  const ro: RegionOut = { label: 0, hu: 0, prio: 0, clear: Infinity };
  const hit: Hit = { found: false, hu: 0, prio: 0, inEmphysema: false, inConsolidation: false, clear: Infinity };
  const wv = {} as Where;
  const evaluate = (x: number, y: number, z: number, o: Sample): void => {
    o.clear = Infinity;
    if (!anatomy.classify(x, y, z, o)) return;
    if (needDepth) where(x, y, z, wv);
    else {
      wv.x = x; wv.y = y; wv.z = z; wv.d = 50; wv.f = 0.5;
      wv.yn = Math.min(1, Math.max(0, (y - yFront) / ap));
      wv.lat = 0;
    }
    regions.evaluate(wv, ro);
    index.query(x, y, z, hit);
    let hu = ro.hu;
    // Fibres belong to their region: a fibre end poking out of the band is not drawn in normal lung.
    if (hit.found && hit.prio > ro.prio && !(hit.prio === 2 && ro.label === LABEL.normal)) hu = hit.hu;
    let label = ro.label;
    if (hit.inEmphysema) label = LABEL.emphysema;
    else if (hit.inConsolidation) label = LABEL.consolidation;
    o.hu = hu;
    o.label = label;
    o.clear = Math.min(ro.clear, hit.clear);
  };
  return { patient, anatomy, depthMap: dm, evaluate, tractionBronchiectasis: traction > 0, objectCount: index.size };
}

function pool(): Pool {
  return { pts: [], volume: 0 };
}
function push(p: Pool, x: number, y: number, z: number, cell: number): void {
  p.pts.push(x, y, z);
  p.volume += cell;
}

/** Arteries and veins (+40 HU, radius ~6 mm at the hilum to ~0.4 mm) and walled airways per lung. */
function addTrees(index: ObjectIndex, a: Anatomy, dm: DepthMap, family: ScannerFamily, seed: number): void {
  const rng = makeRng(subSeed(seed, `trees-${family}`));
  const lumen0 = a.patient.tracheaLumenMm * 0.65;
  const roots = [
    { side: 1, artery: LANDMARKS.arteryR, vein: LANDMARKS.veinR, bronchus: LANDMARKS.bronchusR },
    { side: 2, artery: LANDMARKS.arteryL, vein: LANDMARKS.veinL, bronchus: LANDMARKS.bronchusL },
  ];
  const addVessels = (segs: Segment[]): void => {
    for (const s of segs) index.add({ a: s.a, b: s.b, r0: s.r0, r1: s.r1, wall: 0, hu: VESSEL_HU, wallHu: VESSEL_HU, kind: KIND.vessel });
  };
  const addAirways = (segs: Segment[]): void => {
    for (const s of segs) {
      // Wall ≈ 0.2 × lumen radius + 0.25 mm (airway wall-to-lumen ratios of normal adults).
      const wall = 0.2 * (s.r0 + s.r1) * 0.5 + 0.25;
      index.add({ a: s.a, b: s.b, r0: s.r0 + wall, r1: s.r1 + wall, wall, hu: -1000, wallHu: 30, kind: KIND.airway });
    }
  };
  for (const r of roots) {
    const lateral: [number, number, number] = [r.side === 1 ? -1 : 1, 0, 0];
    const art = a.toPatient(r.artery), vein = a.toPatient(r.vein), br = a.toPatient(r.bronchus);
    if (family === 'fibre') {
      addVessels(recursiveTree(lungPoints(dm, rng, r.side, 4096, 1.5), art, lateral, 6, 0.4, rng));
      addVessels(recursiveTree(lungPoints(dm, rng, r.side, 4096, 1.5), vein, lateral, 5.5, 0.4, rng));
      addAirways(recursiveTree(lungPoints(dm, rng, r.side, 320, 4), br, lateral, lumen0, 0.7, rng));
    } else {
      addVessels(colonisedTree(lungPoints(dm, rng, r.side, 2500, 1.5), art, 6, 0.35, 2.5));
      addVessels(colonisedTree(lungPoints(dm, rng, r.side, 2500, 1.5), vein, 5.5, 0.35, 2.5));
      addAirways(colonisedTree(lungPoints(dm, rng, r.side, 300, 4), br, lumen0, 0.7, 3.5));
    }
  }
}
