/**
 * The lungs in 3D (docs/reference-engine.md, "Masks"). Candidate lung is every voxel inside the body
 * below the half-way level between lung parenchyma and soft tissue — the iso-surface a blurred step
 * crosses at its true position, whatever the kernel — with no rim rule. Candidates form 3D components
 * (union–find over row runs); the lungs are the large ones that are not flat slabs (the table's foam
 * core); walled-off air next to them (honeycomb cysts, paraseptal emphysema) is readmitted; the trachea
 * and main bronchi are tracked and removed; enclosed holes (vessels, dense nodules) are filled per slice.
 */
import type { Volume } from '../../volume/assemble-volume.js';
import { LABEL } from './body.js';
import { floodFromBorder } from './planar.js';
import { removeCentralAirways } from './airways.js';
import { findRuns, type Runs } from './runs3d.js';
import { dilateSquare, erodeSquare, squareScratch } from './square-morphology.js';

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
export function segmentLungs(volume: Volume, labels: Uint8Array, thresholdHu: number, lumenHu: number, tissueHu: number, psfSigmaMm: number): LungMask {
  const { width: w, height: h, depth: d, hu } = volume;
  const n = w * h;
  const voxelMl = (volume.pixelSpacingMm[0] * volume.pixelSpacingMm[1] * volume.sliceSpacingMm) / 1000;
  for (let i = 0; i < n * d; i++) if (labels[i] === LABEL.tissue && hu[i]! < thresholdHu) labels[i] = LABEL.air;

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
    for (let pass = 0; pass < READMIT_LAYERS; pass++) {
      const now = new Uint8Array(comps.count);
      let any = false;
      for (const k of candidateRuns) {
        const c = runs.comp[k]!;
        if (readmit[c] !== 2 || now[c]) continue;
        const row = runs.row[k]!, z = Math.floor(row / h), y = row % h;
        if (nearLung(labels, w, h, d, z, y, runs.x0[k]!, runs.x1[k]!, r, rz)) { now[c] = 1; any = true; }
      }
      if (!any) break;
      for (let c = 0; c < comps.count; c++) if (now[c]) { readmit[c] = 1; added += comps.voxels[c]!; }
      paintComponents(runs, now, labels, w, h, LABEL.lung);
    }
    return added;
  };
  let readmittedVoxels = readmitCysts();
  const denseLimit = thresholdHu + DENSE_LUNG_FRACTION * (tissueHu - thresholdHu);
  // The partial volume of a surface reaches about 2.5 PSF σ in-plane and a slice thickness along z.
  const edgeXY = Math.max(GROW_EDGE_MM, 2.5 * psfSigmaMm), edgeZ = Math.max(GROW_EDGE_MM, volume.sliceThicknessMm);
  const grownVoxels = growIntoDenseLung(volume, labels, thresholdHu, denseLimit, tissueHu - EDGE_TISSUE_FRACTION * (tissueHu - thresholdHu), edgeXY, edgeZ);
  readmittedVoxels += readmitCysts();
  for (let c = 0; c < comps.count; c++) if (readmit[c] === 2 && comps.voxels[c]! * voxelMl >= 1) smallMl += comps.voxels[c]! * voxelMl;
  // Whatever candidate air is left is not lung.
  for (let i = 0; i < n * d; i++) if (labels[i] === LABEL.air) labels[i] = LABEL.tissue;

  const airwayVoxels = removeCentralAirways(volume, labels, lumenHu);
  closeSlices(volume, labels);
  const boxes = new Int32Array(4 * d);
  const lungVoxels = fillHolesAndBox(volume, labels, boxes);
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

function paintComponents(runs: Runs, which: Uint8Array, labels: Uint8Array, w: number, _h: number, label: number): void {
  for (let k = 0; k < runs.count; k++) {
    if (!which[runs.comp[k]!]) continue;
    const o = runs.row[k]! * w;
    labels.fill(label, o + runs.x0[k]!, o + runs.x1[k]! + 1);
  }
}

/** Whether any voxel within ±r in-plane and ±rz slices of the run is lung. */
function nearLung(labels: Uint8Array, w: number, h: number, d: number, z: number, y: number, a: number, b: number, r: number, rz: number): boolean {
  for (let k = Math.max(0, z - rz); k <= Math.min(d - 1, z + rz); k++) {
    for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
      const o = (k * h + yy) * w;
      for (let x = Math.max(0, a - r); x <= Math.min(w - 1, b + r); x++) if (labels[o + x] === LABEL.lung) return true;
    }
  }
  return false;
}

/**
 * Breadth-first growth of the lung into body voxels below `limit` that are not the partial volume of a
 * surface between aerated lung and soft tissue, up to GROW_MM from the aerated lung. @returns voxels added.
 */
function growIntoDenseLung(volume: Volume, labels: Uint8Array, threshold: number, limit: number, tissueLevel: number, edgeXY: number, edgeZ: number): number {
  const { width: w, height: h, depth: d, hu } = volume;
  const n = w * h;
  const steps = Math.max(1, Math.round(GROW_MM / Math.min(volume.pixelSpacingMm[0], volume.sliceSpacingMm)));
  const b = Math.max(1, Math.round(edgeXY / volume.pixelSpacingMm[0]));
  const bz = Math.max(1, Math.round(edgeZ / volume.sliceSpacingMm));
  // A voxel between aerated lung and soft tissue along any axis is the partial volume of a lung surface
  // (in-plane rim, or a dome crossed obliquely by the slice), not dense lung.
  const edge = (j: number, step: number): boolean => {
    const a = hu[j - step]!, c = hu[j + step]!;
    return (a < threshold && c > tissueLevel) || (c < threshold && a > tissueLevel);
  };
  const ok = (j: number): boolean => {
    if (labels[j] !== LABEL.tissue || hu[j]! >= limit) return false;
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

/** Per slice, a closing of the lung by a square of half-width CLOSING_MM that adds only body voxels (never
 *  outside air or airway lumen). */
function closeSlices(volume: Volume, labels: Uint8Array): void {
  const { width: w, height: h, depth: d } = volume;
  const r = Math.max(1, Math.round(CLOSING_MM / volume.pixelSpacingMm[0]));
  const m = r + 1;
  const mask = new Uint8Array(w * h), dil = new Uint8Array(w * h), clo = new Uint8Array(w * h);
  const s = squareScratch(w, h);
  for (let z = 0; z < d; z++) {
    const base = z * w * h;
    let x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (let y = 0; y < h; y++) {
      const o = base + y * w;
      for (let x = 0; x < w; x++) if (labels[o + x] === LABEL.lung) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; y1 = y; }
    }
    if (x1 < 0) continue;
    x0 = Math.max(0, x0 - m); y0 = Math.max(0, y0 - m); x1 = Math.min(w - 1, x1 + m); y1 = Math.min(h - 1, y1 + m);
    const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) mask[y * bw + x] = labels[base + (y0 + y) * w + x0 + x] === LABEL.lung ? 1 : 0;
    dilateSquare(mask, bw, bh, r, s, dil);
    erodeSquare(dil, bw, bh, r, s, clo);
    for (let y = 0; y < bh; y++) {
      for (let x = 0; x < bw; x++) {
        const j = base + (y0 + y) * w + x0 + x;
        if (clo[y * bw + x] && labels[j] === LABEL.tissue) labels[j] = LABEL.lung;
      }
    }
  }
}

/**
 * Per slice: fills holes enclosed by lung (≤ HOLE_MAX_MM2, holding no airway) and records the lung's
 * bounding box. @returns the number of lung voxels.
 */
function fillHolesAndBox(volume: Volume, labels: Uint8Array, boxes: Int32Array): number {
  const { width: w, height: h, depth: d } = volume;
  const n = w * h;
  const maxHole = HOLE_MAX_MM2 / (volume.pixelSpacingMm[0] * volume.pixelSpacingMm[1]);
  const m = new Uint8Array(n);
  const stack = new Int32Array(n);
  const list = new Int32Array(n);
  let total = 0;
  for (let z = 0; z < d; z++) {
    const base = z * n;
    let x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (let y = 0; y < h; y++) {
      const o = base + y * w;
      for (let x = 0; x < w; x++) if (labels[o + x] === LABEL.lung) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; y1 = y; }
    }
    if (x1 < 0) { boxes.set([-1, -1, -1, -1], 4 * z); continue; }
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
    let count = 0;
    for (let y = y0; y <= y1; y++) {
      const o = base + y * w;
      for (let x = x0; x <= x1; x++) if (labels[o + x] === LABEL.lung) count++;
    }
    total += count;
    boxes.set([x0, y0, x1, y1], 4 * z);
  }
  return total;
}
