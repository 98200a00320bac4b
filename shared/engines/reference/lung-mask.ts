/**
 * The lungs in 3D (docs/reference-engine.md, "Masks"). Candidate lung is every voxel inside the body
 * below the half-way level between lung parenchyma and soft tissue — the iso-surface a blurred step
 * crosses at its true position, whatever the kernel — with no rim rule. Candidates form 3D components
 * (union–find over row runs); the lungs are the large ones that are not flat slabs (the table's foam
 * core); walled-off air next to them (honeycomb cysts, paraseptal emphysema) is readmitted; the trachea
 * and main bronchi are tracked and removed; enclosed holes (vessels, dense nodules) are filled per slice.
 */
import type { Volume } from '../../volume/assemble-volume.js';
import type { StageHook } from './analyze-volume.js';
import { LABEL } from './body.js';
import { floodFromBorder } from './planar.js';
import { removeCentralAirways } from './airways.js';
import { findRuns, type Runs } from './runs3d.js';
import { dilateSquare, erodeSquare, squareScratch } from './square-morphology.js';
import { slabCuts, type SlicePool } from './slice-pool.js';

/** A slab whose thickness is under this fraction of its width is a table core or a mattress, not a lung
 *  (one lung is taller than it is wide in an axial section; both lungs together are at least half). */
const FLAT_RATIO = 0.3;
/** …and it runs through the whole scan (a table does; a lung ends at its apex and base, and the flat
 *  crescent of a lung base is a few centimetres long). */
const TABLE_SLICE_FRACTION = 0.9;
/** Components this small relative to the largest are gut gas or specks, not a lung. */
const LUNG_COMPONENT_MIN_FRACTION = 0.15;
/** A lung holds at least this much air-like tissue (an adult lung is 1.5–4 L). */
const MIN_LUNG_ML = 50;
/** Walled-off air is lung again when it lies within this distance of the lung (a honeycomb wall is
 *  1–3 mm thick, Fleischner glossary), and is no larger than this (honeycomb cysts are 3–25 mm; a
 *  stomach bubble is tens of millilitres and lies under ≥ 5 mm of diaphragm and gut wall). */
const READMIT_MM = 3.5;
const READMIT_MAX_ML = 10;
/** Passes of readmission: one layer of cysts each. */
const READMIT_LAYERS = 16;
/** Dense fibrotic lung (reticulation, honeycomb walls, ground glass at the pleura) lies above the lung
 *  threshold but below soft tissue: up to this fraction of the way from the threshold to tissue, in a
 *  neighbourhood that is itself below it — so a band of fibrosis is lung, while the chest wall's
 *  one-voxel partial-volume rim (whose neighbourhood holds muscle) is not. */
const DENSE_LUNG_FRACTION = 0.4;
/** How far dense lung is followed from the aerated lung. */
const GROW_MM = 15;
/** A partial-volume voxel of a lung surface has aerated lung on one side and soft tissue on the other
 *  within this distance at least (more with a wider PSF or thicker slices). */
const GROW_EDGE_MM = 1.5;
/** Soft tissue for that test: within this fraction of the contrast of tissue. */
const EDGE_TISSUE_FRACTION = 0.5;
/** Holes enclosed by lung in one section are vessels, bronchial walls or nodules, and are lung; larger
 *  enclosed regions are the mediastinum seen between lungs that touch in front and behind. */
const HOLE_MAX_MM2 = 2000;
/** Closing radius: dense fibrosis, cyst walls and juxtapleural vessels between aerated pieces of lung are
 *  lung; a closing bridges gaps up to twice this wide. A smooth pleural surface (curvature radius ≫ this)
 *  gains nothing, so the chest wall's partial-volume rim is not added (that rim biases HAA). */
const CLOSING_MM = 2;
/** The surface's local levels are read within this many PSF σ (plus a pixel) of each surface voxel: the
 *  blurred edge spans about ±2.5 σ, so the window reaches pure lung and pure tissue on either side. */
const SURFACE_WINDOW_PSF = 3;
/** A single voxel is trusted for a surface decision when soft tissue lies this many noise SDs above the
 *  dense-lung limit (a tissue voxel then passes for lung less than once in 30,000); else its 3 × 3 mean. */
const NOISY_MARGIN_SD = 4;

export type LungMask = {
  /** Per slice: x0, y0, x1, y1 of the lung (inclusive); x1 = −1 on slices without lung. */
  boxes: Int32Array;
  /** Bounding box of the lung over the whole volume. */
  box: { x0: number; y0: number; z0: number; x1: number; y1: number; z1: number };
  lungVoxels: number;
  airwayVoxels: number;
  readmittedVoxels: number;
  /** Dense fibrotic lung (above the lung threshold, below soft tissue) grown into from the lung. */
  grownVoxels: number;
  /** Air components left out: flat slabs (table), gut gas, specks (counted in voxels ≥ 1 mL). */
  excluded: { flat: number; small: number };
  thresholdHu: number;
};

/** Marks candidates (`air`), then lungs (`lung`) and central airways (`airway`) in `labels`. */
export async function segmentLungs(volume: Volume, labels: Uint8Array, thresholdHu: number, lumenHu: number, tissueHu: number, psfSigmaMm: number, noiseSdHu: number, pool: SlicePool, stage: StageHook = () => {}): Promise<LungMask> {
  const { width: w, height: h, depth: d, hu } = volume;
  const n = w * h;
  const voxelMl = (volume.pixelSpacingMm[0] * volume.pixelSpacingMm[1] * volume.sliceSpacingMm) / 1000;
  const denseLimit = thresholdHu + DENSE_LUNG_FRACTION * (tissueHu - thresholdHu);
  // Surface decisions read a voxel through a 3 × 3 mean when single voxels of soft tissue would fall
  // below the dense-lung limit too often (it is under NOISY_MARGIN_SD noise SDs below tissue): the
  // candidates, the growth into dense lung and the surface refinement.
  const noisy = tissueHu - denseLimit < NOISY_MARGIN_SD * noiseSdHu;
  await pool.run('candidates', { hu, labels, w, h, thresholdHu, noisy }, slabCuts(0, d - 1, pool.parts));

  const runs = findRuns(labels, w, h, d, LABEL.air);
  const comps = componentStats(runs, w, h);
  const px = volume.pixelSpacingMm[0], py = volume.pixelSpacingMm[1];
  let largest = 0;
  const flat = new Uint8Array(comps.count);
  let flatMl = 0;
  for (let c = 0; c < comps.count; c++) {
    const wide = (comps.maxX[c]! - comps.minX[c]! + 1) * px, tall = (comps.maxY[c]! - comps.minY[c]! + 1) * py;
    const long = comps.maxZ[c]! - comps.minZ[c]! + 1 >= TABLE_SLICE_FRACTION * d;
    if (comps.voxels[c]! * voxelMl >= 1 && tall < FLAT_RATIO * wide && long) { flat[c] = 1; flatMl += comps.voxels[c]! * voxelMl; }
    else if (comps.voxels[c]! > largest) largest = comps.voxels[c]!;
  }
  const keep = new Uint8Array(comps.count);
  let smallMl = 0;
  for (let c = 0; c < comps.count; c++) {
    if (flat[c]) continue;
    const v = comps.voxels[c]!;
    if (v >= LUNG_COMPONENT_MIN_FRACTION * largest && v * voxelMl >= MIN_LUNG_ML) keep[c] = 1;
  }
  paintComponents(runs, keep, labels, w, h, LABEL.lung);
  // Readmission: small components near the kept lung.
  const r = Math.max(1, Math.round(READMIT_MM / Math.min(px, py)));
  const rz = Math.max(0, Math.round(READMIT_MM / volume.sliceSpacingMm));
  const readmit = new Uint8Array(comps.count);
  for (let c = 0; c < comps.count; c++) {
    if (keep[c] || flat[c] || comps.voxels[c]! * voxelMl > READMIT_MAX_ML) continue;
    readmit[c] = 2; // to test
  }
  // Cysts stacked in layers are readmitted outwards, one layer per pass (a honeycomb band at the base is
  // a chain of walled cysts); then dense fibrotic lung is grown into, and the cysts it reaches follow.
  const candidateRuns: number[] = [];
  for (let k = 0; k < runs.count; k++) if (readmit[runs.comp[k]!] === 2) candidateRuns.push(k);
  const readmitCysts = (): number => {
    let added = 0;
    // A candidate that failed against the lung of the last pass can pass now only if that pass painted lung
    // within its reach, so after the first pass only runs in rows near freshly painted ones are tested
    // (exact; it saves re-scanning every failed candidate sixteen times).
    let reach: Uint8Array | null = null;
    const boxes = sliceBoxes(labels, w, h, d, LABEL.lung);
    for (let pass = 0; pass < READMIT_LAYERS; pass++) {
      const now = new Uint8Array(comps.count);
      let any = false;
      for (const k of candidateRuns) {
        const c = runs.comp[k]!;
        if (readmit[c] !== 2 || now[c] || (reach && !reach[runs.row[k]!])) continue;
        const row = runs.row[k]!, z = Math.floor(row / h), y = row % h;
        if (nearLung(labels, boxes, w, h, d, z, y, runs.x0[k]!, runs.x1[k]!, r, rz)) { now[c] = 1; any = true; }
      }
      if (!any) break;
      for (let c = 0; c < comps.count; c++) if (now[c]) { readmit[c] = 1; added += comps.voxels[c]!; }
      paintComponents(runs, now, labels, w, h, LABEL.lung, boxes);
      reach = rowsWithin(runs, now, h, d, r, rz);
    }
    return added;
  };
  stage('lungs: candidate air components');
  let readmittedVoxels = readmitCysts();
  // The partial volume of a surface reaches about 2.5 PSF σ in-plane and a slice thickness along z.
  const edgeXY = Math.max(GROW_EDGE_MM, 2.5 * psfSigmaMm), edgeZ = Math.max(GROW_EDGE_MM, volume.sliceThicknessMm);
  const grownVoxels = growIntoDenseLung(volume, labels, thresholdHu, denseLimit, tissueHu - EDGE_TISSUE_FRACTION * (tissueHu - thresholdHu), edgeXY, edgeZ, noisy);
  readmittedVoxels += readmitCysts();
  stage('lungs: cysts and dense lung');
  for (let c = 0; c < comps.count; c++) if (readmit[c] === 2 && comps.voxels[c]! * voxelMl >= 1) smallMl += comps.voxels[c]! * voxelMl;
  // Whatever candidate air is left is not lung.
  for (let i = 0; i < n * d; i++) if (labels[i] === LABEL.air) labels[i] = LABEL.tissue;

  const airwayVoxels = removeCentralAirways(volume, labels, lumenHu, psfSigmaMm);
  stage('lungs: airways');
  // Per slice, on every thread: the closing, then the hole filling (each slice reads and writes only itself).
  const closing: CloseFillInput = {
    labels, hu, w, h, r: Math.max(1, Math.round(CLOSING_MM / volume.pixelSpacingMm[0])),
    maxHole: HOLE_MAX_MM2 / (volume.pixelSpacingMm[0] * volume.pixelSpacingMm[1]),
    parenchymaHu: 2 * thresholdHu - tissueHu, tissueHu,
    surfaceR: Math.max(2, Math.round((SURFACE_WINDOW_PSF * psfSigmaMm) / volume.pixelSpacingMm[0]) + 1),
    noisy,
  };
  const perSlice = await pool.run('closeAndFill', closing, slabCuts(0, d - 1, pool.parts));
  stage('lungs: closing and surface');
  const boxes = new Int32Array(4 * d);
  let lungVoxels = 0, z = 0;
  for (const slab of perSlice) {
    for (let k = 0; k < slab.length; k += 5, z++) {
      boxes.set(slab.subarray(k, k + 4), 4 * z);
      lungVoxels += slab[k + 4]!;
    }
  }
  const box = { x0: w, y0: h, z0: d, x1: -1, y1: -1, z1: -1 };
  for (let z = 0; z < d; z++) {
    if (boxes[4 * z + 2]! < 0) continue;
    box.x0 = Math.min(box.x0, boxes[4 * z]!); box.y0 = Math.min(box.y0, boxes[4 * z + 1]!);
    box.x1 = Math.max(box.x1, boxes[4 * z + 2]!); box.y1 = Math.max(box.y1, boxes[4 * z + 3]!);
    box.z0 = Math.min(box.z0, z); box.z1 = z;
  }
  return {
    boxes, box, lungVoxels, airwayVoxels, readmittedVoxels, grownVoxels, thresholdHu,
    excluded: { flat: Math.round(flatMl), small: Math.round(smallMl) },
  };
}

type Comps = { count: number; voxels: Float64Array; minX: Int32Array; maxX: Int32Array; minY: Int32Array; maxY: Int32Array; minZ: Int32Array; maxZ: Int32Array };

function componentStats(runs: Runs, _w: number, h: number): Comps {
  let m = 0;
  for (let k = 0; k < runs.count; k++) m = Math.max(m, runs.comp[k]! + 1);
  const c: Comps = {
    count: m, voxels: new Float64Array(m), minX: new Int32Array(m).fill(1 << 30), maxX: new Int32Array(m).fill(-1),
    minY: new Int32Array(m).fill(1 << 30), maxY: new Int32Array(m).fill(-1), minZ: new Int32Array(m).fill(1 << 30), maxZ: new Int32Array(m).fill(-1),
  };
  for (let k = 0; k < runs.count; k++) {
    const id = runs.comp[k]!, y = runs.row[k]! % h, z = Math.floor(runs.row[k]! / h);
    if (z < c.minZ[id]!) c.minZ[id] = z;
    if (z > c.maxZ[id]!) c.maxZ[id] = z;
    c.voxels[id]! += runs.x1[k]! - runs.x0[k]! + 1;
    if (runs.x0[k]! < c.minX[id]!) c.minX[id] = runs.x0[k]!;
    if (runs.x1[k]! > c.maxX[id]!) c.maxX[id] = runs.x1[k]!;
    if (y < c.minY[id]!) c.minY[id] = y;
    if (y > c.maxY[id]!) c.maxY[id] = y;
  }
  return c;
}

/** Paints the runs of the components marked in `which`; grows the per-slice `boxes` over them when given. */
function paintComponents(runs: Runs, which: Uint8Array, labels: Uint8Array, w: number, h: number, label: number, boxes?: Int32Array): void {
  for (let k = 0; k < runs.count; k++) {
    if (!which[runs.comp[k]!]) continue;
    const row = runs.row[k]!, o = row * w;
    labels.fill(label, o + runs.x0[k]!, o + runs.x1[k]! + 1);
    if (boxes) growBox(boxes, Math.floor(row / h), runs.x0[k]!, row % h, runs.x1[k]!, row % h);
  }
}

/** Per slice z: x0, y0, x1, y1 (inclusive) of the voxels labelled `label`; x1 = −1 where there are none. */
function sliceBoxes(labels: Uint8Array, w: number, h: number, d: number, label: number): Int32Array {
  const boxes = new Int32Array(4 * d);
  for (let z = 0; z < d; z++) {
    boxes.set([w, h, -1, -1], 4 * z);
    for (let y = 0; y < h; y++) {
      const o = (z * h + y) * w;
      let first = o;
      while (first < o + w && labels[first] !== label) first++;
      if (first === o + w) continue;
      let last = o + w - 1;
      while (labels[last] !== label) last--;
      growBox(boxes, z, first - o, y, last - o, y);
    }
  }
  return boxes;
}

function growBox(boxes: Int32Array, z: number, x0: number, y0: number, x1: number, y1: number): void {
  const b = 4 * z;
  if (x0 < boxes[b]!) boxes[b] = x0;
  if (y0 < boxes[b + 1]!) boxes[b + 1] = y0;
  if (x1 > boxes[b + 2]!) boxes[b + 2] = x1;
  if (y1 > boxes[b + 3]!) boxes[b + 3] = y1;
}

/** Rows (z·h + y) within ±r rows and ±rz slices of a run of the components marked in `which`. */
function rowsWithin(runs: Runs, which: Uint8Array, h: number, d: number, r: number, rz: number): Uint8Array {
  const painted = new Uint8Array(h * d);
  for (let k = 0; k < runs.count; k++) if (which[runs.comp[k]!]) painted[runs.row[k]!] = 1;
  // Separable dilation over the (z, y) grid of rows: along y by r, then along z by rz.
  const alongY = new Uint8Array(h * d), out = new Uint8Array(h * d);
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      if (!painted[z * h + y]) continue;
      alongY.fill(1, z * h + Math.max(0, y - r), z * h + Math.min(h - 1, y + r) + 1);
    }
  }
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      if (!alongY[z * h + y]) continue;
      for (let k = Math.max(0, z - rz); k <= Math.min(d - 1, z + rz); k++) out[k * h + y] = 1;
    }
  }
  return out;
}

/** Whether any voxel within ±r in-plane and ±rz slices of the run is lung; only inside each slice's lung box. */
function nearLung(labels: Uint8Array, boxes: Int32Array, w: number, h: number, d: number, z: number, y: number, a: number, b: number, r: number, rz: number): boolean {
  for (let k = Math.max(0, z - rz); k <= Math.min(d - 1, z + rz); k++) {
    const bx = 4 * k;
    const y0 = Math.max(y - r, boxes[bx + 1]!), y1 = Math.min(y + r, boxes[bx + 3]!);
    const x0 = Math.max(a - r, boxes[bx]!), x1 = Math.min(b + r, boxes[bx + 2]!);
    for (let yy = y0; yy <= y1; yy++) {
      const o = (k * h + yy) * w;
      for (let x = x0; x <= x1; x++) if (labels[o + x] === LABEL.lung) return true;
    }
  }
  return false;
}

/**
 * Breadth-first growth of the lung into body voxels below `limit` that are not the partial volume of a
 * surface between aerated lung and soft tissue, up to GROW_MM from the aerated lung. @returns voxels added.
 */
function growIntoDenseLung(volume: Volume, labels: Uint8Array, threshold: number, limit: number, tissueLevel: number, edgeXY: number, edgeZ: number, noisy: boolean): number {
  const { width: w, height: h, depth: d } = volume;
  const n = w * h;
  const at = valueReader(volume.hu, w, h, noisy);
  const steps = Math.max(1, Math.round(GROW_MM / Math.min(volume.pixelSpacingMm[0], volume.sliceSpacingMm)));
  const b = Math.max(1, Math.round(edgeXY / volume.pixelSpacingMm[0]));
  const bz = Math.max(1, Math.round(edgeZ / volume.sliceSpacingMm));
  // A voxel between aerated lung and soft tissue along any axis is the partial volume of a lung surface
  // (in-plane rim, or a dome crossed obliquely by the slice), not dense lung.
  const edge = (j: number, step: number): boolean => {
    const a = at(j - step), c = at(j + step);
    return (a < threshold && c > tissueLevel) || (c < threshold && a > tissueLevel);
  };
  const ok = (j: number): boolean => {
    if (labels[j] !== LABEL.tissue || at(j) >= limit) return false;
    const z = Math.floor(j / n), y = Math.floor((j - z * n) / w), x = j - z * n - y * w;
    if (x < b || y < b || x >= w - b || y >= h - b || z < bz || z >= d - bz) return false;
    return !edge(j, b) && !edge(j, b * w) && !edge(j, bz * n);
  };
  let frontier: number[] = [];
  const push = (j: number, to: number[]): void => { if (ok(j)) { labels[j] = LABEL.lung; to.push(j); } };
  const neighbours = (i: number, to: number[]): void => {
    const x = i % w, y = Math.floor(i / w) % h, z = Math.floor(i / n);
    if (x > 0) push(i - 1, to);
    if (x < w - 1) push(i + 1, to);
    if (y > 0) push(i - w, to);
    if (y < h - 1) push(i + w, to);
    if (z > 0) push(i - n, to);
    if (z < d - 1) push(i + n, to);
  };
  for (let i = 0; i < n * d; i++) if (labels[i] === LABEL.lung) neighbours(i, frontier);
  let added = frontier.length;
  for (let s = 1; s < steps && frontier.length; s++) {
    const next: number[] = [];
    for (const i of frontier) neighbours(i, next);
    added += next.length;
    frontier = next;
  }
  return added;
}

export type CloseFillInput = {
  labels: Uint8Array;
  hu: Int16Array;
  w: number;
  h: number;
  /** Closing half-width, pixels (CLOSING_MM). */
  r: number;
  /** Largest enclosed hole filled, pixels (HOLE_MAX_MM2). */
  maxHole: number;
  /** The scan's parenchyma and soft tissue (the global half-way level is their mean). */
  parenchymaHu: number;
  tissueHu: number;
  /** Half-width of the window the surface's local levels are read in, pixels. */
  surfaceR: number;
  /** Read surface voxels through a 3 × 3 mean (see segmentLungs). */
  noisy: boolean;
};

type CloseFillScratch = { mask: Uint8Array; dil: Uint8Array; clo: Uint8Array; morph: ReturnType<typeof squareScratch>; stack: Int32Array; list: Int32Array; flips: Int32Array };

export function closeFillScratch(w: number, h: number): CloseFillScratch {
  const n = w * h;
  return { mask: new Uint8Array(n), dil: new Uint8Array(n), clo: new Uint8Array(n), morph: squareScratch(w, h), stack: new Int32Array(n), list: new Int32Array(n), flips: new Int32Array(n) };
}

/**
 * One slice: a closing of the lung by a square of half-width `r` that adds only body voxels (never
 * outside air or airway lumen), then the filling of holes enclosed by lung (≤ `maxHole`, holding no
 * airway). Writes x0, y0, x1, y1 of the slice's lung (x1 = −1 when none) and its voxel count to `out`.
 */
export function closeAndFillSlice(inp: CloseFillInput, z: number, out: Int32Array, s: CloseFillScratch): void {
  const { labels, w, h, r } = inp;
  const base = z * w * h;
  const found = lungBox(labels, base, w, h);
  if (!found) { out.set([-1, -1, -1, -1, 0]); return; }
  const m = r + 1;
  const x0 = Math.max(0, found[0] - m), y0 = Math.max(0, found[1] - m), x1 = Math.min(w - 1, found[2] + m), y1 = Math.min(h - 1, found[3] + m);
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) s.mask[y * bw + x] = labels[base + (y0 + y) * w + x0 + x] === LABEL.lung ? 1 : 0;
  dilateSquare(s.mask, bw, bh, r, s.morph, s.dil);
  erodeSquare(s.dil, bw, bh, r, s.morph, s.clo);
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const j = base + (y0 + y) * w + x0 + x;
      if (s.clo[y * bw + x] && labels[j] === LABEL.tissue) labels[j] = LABEL.lung;
    }
  }
  // A square's closing and the filling of enclosed holes stay inside the lung's bounding box.
  fillHoles(inp, base, found, s);
  refineSurface(inp, base, found, s);
  const [lx0, ly0, lx1, ly1] = found;
  let count = 0;
  for (let y = ly0; y <= ly1; y++) {
    const o = base + y * w;
    for (let x = lx0; x <= lx1; x++) if (labels[o + x] === LABEL.lung) count++;
  }
  out.set([lx0, ly0, lx1, ly1, count]);
}

/** The bounding box [x0, y0, x1, y1] of the lung on the slice at `base`, or null. */
function lungBox(labels: Uint8Array, base: number, w: number, h: number): [number, number, number, number] | null {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    const o = base + y * w;
    for (let x = 0; x < w; x++) if (labels[o + x] === LABEL.lung) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; y1 = y; }
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}

/** Fills the holes enclosed by lung on one slice: small ones that hold no airway or outside air. */
function fillHoles(inp: CloseFillInput, base: number, [x0, y0, x1, y1]: [number, number, number, number], s: CloseFillScratch): void {
  const { labels, w, h, maxHole } = inp;
  const { mask: m, stack, list } = s;
  // Box with a one-pixel margin, so the flood from its border surrounds the lung.
  const bx0 = Math.max(0, x0 - 1), by0 = Math.max(0, y0 - 1), bx1 = Math.min(w - 1, x1 + 1), by1 = Math.min(h - 1, y1 + 1);
  const bw = bx1 - bx0 + 1, bh = by1 - by0 + 1;
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const l = labels[base + (by0 + y) * w + bx0 + x]!;
      m[y * bw + x] = l === LABEL.lung ? 1 : l === LABEL.tissue ? 0 : 3; // 3: outside or airway, never filled
    }
  }
  floodFromBorder(m, bw, bh, 0, 2, stack);
  for (let i = 0; i < bw * bh; i++) {
    if (m[i] !== 0) continue;
    // One enclosed region: collect it, fill when small and free of airway/outside.
    let sp = 0, len = 0, blocked = false;
    m[i] = 4; stack[sp++] = i;
    while (sp > 0) {
      const j = stack[--sp]!;
      list[len++] = j;
      const x = j % bw;
      const nb = [x > 0 ? j - 1 : -1, x < bw - 1 ? j + 1 : -1, j - bw, j + bw];
      for (const q of nb) {
        if (q < 0 || q >= bw * bh) continue;
        if (m[q] === 0) { m[q] = 4; stack[sp++] = q; } else if (m[q] === 3 || m[q] === 2) blocked = blocked || m[q] === 3;
      }
    }
    if (!blocked && len <= maxHole) {
      for (let k = 0; k < len; k++) { const j = list[k]!; labels[base + (by0 + Math.floor(j / bw)) * w + bx0 + (j % bw)] = LABEL.lung; }
    }
  }
}

/**
 * The lung's surface at the local half-way level. The global level assumes soft tissue (≈ 40 HU) beyond
 * the pleura, but much of the lung borders fat (−100 HU: extrapleural and mediastinal fat) or bone, whose
 * half-way levels with parenchyma lie 30–70 HU lower or higher; a blurred step crosses the half-way level
 * of its own two sides at the true edge. So each voxel of the surface layer (a lung voxel next to body, or
 * body next to lung) whose value is ambiguous (the middle half of the contrast) is lung when it is below
 * the half-way level of the pure lung and pure tissue read around it, in a window a few PSF σ wide.
 * Decided on the slice as it was, then applied; the box of the lung never grows (body voxels outside it
 * are not lung neighbours… except at its edge, where the box is widened by the caller's margin).
 */
function refineSurface(inp: CloseFillInput, base: number, [x0, y0, x1, y1]: [number, number, number, number], s: CloseFillScratch): void {
  const { labels, hu, w, h, parenchymaHu: P, tissueHu, surfaceR: R } = inp;
  const at = valueReader(hu, w, h, inp.noisy);
  const C = tissueHu - P;
  const lo = P + 0.25 * C, hi = P + 0.75 * C, T = P + 0.5 * C;
  let nf = 0;
  for (let y = Math.max(1, y0); y <= Math.min(h - 2, y1); y++) {
    for (let x = Math.max(1, x0); x <= Math.min(w - 2, x1); x++) {
      const j = base + y * w + x;
      const l = labels[j]!;
      if (l !== LABEL.lung && l !== LABEL.tissue) continue;
      const v = at(j);
      if (v < lo || v > hi) continue;
      // Only the global level's decision is revised: dense lung grown into (lung above the level) stays
      // lung, and air left out of the lung (body below the level: a separate component) stays out.
      if ((l === LABEL.lung) !== (v < T)) continue;
      const other = l === LABEL.lung ? LABEL.tissue : LABEL.lung;
      if (labels[j - 1] !== other && labels[j + 1] !== other && labels[j - w] !== other && labels[j + w] !== other) continue;
      let sl = 0, nl = 0, st = 0, nt = 0;
      for (let yy = Math.max(0, y - R); yy <= Math.min(h - 1, y + R); yy++) {
        const o = base + yy * w;
        for (let xx = Math.max(0, x - R); xx <= Math.min(w - 1, x + R); xx++) {
          const q = hu[o + xx]!, lq = labels[o + xx]!;
          if (lq === LABEL.lung && q < lo) { sl += q; nl++; }
          else if (lq === LABEL.tissue && q > hi) { st += q; nt++; }
        }
      }
      if (nl === 0 || nt === 0) continue;
      const lung = v < (sl / nl + st / nt) / 2;
      if (lung !== (l === LABEL.lung)) s.flips[nf++] = j;
    }
  }
  for (let k = 0; k < nf; k++) { const j = s.flips[k]!; labels[j] = labels[j] === LABEL.lung ? LABEL.tissue : LABEL.lung; }
}

/** A voxel's value: itself, or when `noisy` the mean of its 3 × 3 in-plane neighbourhood (clamped). */
export type CandidateInput = Readonly<{ hu: Int16Array; labels: Uint8Array; w: number; h: number; thresholdHu: number; noisy: boolean }>;

/** Candidate lung air on slice z: body voxels below the lung threshold (through the 3 × 3 mean when noisy). */
export function markCandidates({ hu, labels, w, h, thresholdHu, noisy }: CandidateInput, z: number): void {
  const at = valueReader(hu, w, h, noisy);
  for (let i = z * w * h, end = i + w * h; i < end; i++) if (labels[i] === LABEL.tissue && at(i) < thresholdHu) labels[i] = LABEL.air;
}

function valueReader(hu: Int16Array, w: number, h: number, noisy: boolean): (j: number) => number {
  if (!noisy) return (j) => hu[j]!;
  const n = w * h;
  return (j) => {
    const base = j - (j % n), y = Math.floor((j - base) / w), x = (j - base) % w;
    let s = 0, c = 0;
    for (let yy = Math.max(0, y - 1); yy <= Math.min(h - 1, y + 1); yy++) {
      for (let xx = Math.max(0, x - 1); xx <= Math.min(w - 1, x + 1); xx++) { s += hu[base + yy * w + xx]!; c++; }
    }
    return s / c;
  };
}
