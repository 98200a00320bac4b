/**
 * Six classes per lung voxel, one slice at a time (docs/reference-engine.md, "Classes"), from the
 * denoised density, the air holes, the exact distance to the pleura and window statistics read from
 * summed-area tables (Crow 1984: constant work per voxel whatever the window). Pure and deterministic;
 * slices are independent, so any set of threads gives the same counts.
 */
import { LABEL } from './body.js';
import { HOLE } from './air-holes.js';
import { VOXEL, basinScratch, markAirBasins, type BasinLimits, type BasinScratch } from './air-basins.js';
import { boxMeanScratch, boxMeanSlice, type Box3, type DenoisedLungs } from './denoise.js';
import { TEXTURE_RADIUS } from './scan-physics.js';
import { distanceScratch, sliceDistances, type DistanceScratch } from './pleural-distance.js';
import { dilateSquare, erodeSquare, squareScratch } from './square-morphology.js';
import { Q, QUANTITIES, windowSums, type Window } from './window-sums.js';
import { fineLineResponse } from './line-response.js';
import { HONEYCOMB_MAX_DEPTH_MM, K, TRACTION_MAX_DEPTH_MM, VESSEL_MIN_DIAMETER_MM, WINDOW_MM, type Thresholds } from './thresholds.js';

/** Development hook (features of each textured voxel); unset in production. */
const DEBUG = (globalThis as { __ildflowClassifyDebug?: (i: number, rise: number, spread: number, fine: number, holes: number) => void }).__ildflowClassifyDebug;

export const CLASS = { normal: 0, groundGlass: 1, reticulation: 2, honeycombing: 3, emphysema: 4, consolidation: 5 } as const;
export const CLASS_NAMES = ['normal', 'groundGlass', 'reticulation', 'honeycombing', 'emphysema', 'consolidation'] as const;

/** The largest honeycomb cysts are about 25 mm across (Hansell 2008; Fleischner glossary): an enclosed
 *  cell wider than that is open lung. */
const CYST_MAX_DIAMETER_MM = 25;
/** An air cell has at least this many voxels on its slice (fewer is a noise pocket between walls). */
const CYST_MIN_VOXELS = 3;
/** An enclosed cell is air when its raw mean lies this many of its own noise SDs below parenchyma. */
const CELL_NOISE_MARGIN = 3;
/** A cell's wall is raised above parenchyma by at least this fraction of C on the denoised density: a
 *  0.5 mm septum of soft tissue through a sharp kernel's PSF and the 3-voxel box keeps about a quarter
 *  of its contrast (erf(t / 2√2σ) with σ ≈ 0.85 mm), a 1 mm one about 0.45. */
const CELL_WALL_K = 0.25;

/** Subpleural band: the outer 15 mm of lung, where UIP begins. */
export const SUBPLEURAL_DEPTH_MM = 15;
/** Subpleural sparing (NSIP): the outer shell compared with the band beneath it. */
export const SPARING_SHELL_MM = 3;
export const SPARING_INNER_MM = 20;
export const DEPTH_BIN_MM = 0.5;
const DEPTH_BINS = 80;

/** Per-slice counts (voxels); summed in slice order, so the totals never depend on threading. */
export type SliceStats = {
  lung: number;
  classes: number[];
  fibrosis: number;
  fibrosisSubpleural: number;
  honeycombSubpleural: number;
  honeycombAir: number;
  /** Honeycomb cyst air by depth below the pleura, DEPTH_BIN_MM bins. */
  honeycombAirByDepth: number[];
  tractionTube: number;
  shellLung: number;
  shellAbnormal: number;
  innerLung: number;
  innerAbnormal: number;
  rightLung: number;
  rightFibrosis: number;
};

export type SliceInput = DenoisedLungs & Readonly<{
  holes: Uint8Array;
  zDist: Uint8Array;
  spacing: readonly [number, number, number];
  /** Parenchyma reference per image row (the dependent gradient). */
  parenchyma: Float32Array;
  psfSigmaMm: number;
  denoiseRadiusMm: number;
  /** The density box's radius in-plane and along z, voxels (the texture is read through a smaller one). */
  denoiseRadiusPx: number;
  denoiseRadiusZ: number;
  fineRadiusPx: number;
  fineNoiseHu: number;
  /** The kernel's undershoot beside an edge, fraction of the step (scan-physics.ts). */
  edgeUndershoot: number;
  t: Thresholds;
}>;

export type Classifier = { classify(z: number, classMap?: Uint8Array): SliceStats; histogram: Float64Array };

export function createClassifier(inp: SliceInput): Classifier {
  const { box, w, h } = inp;
  const bw = box.x1 - box.x0 + 1, bh = box.y1 - box.y0 + 1, bn = bw * bh;
  const [sx, sy, sz] = inp.spacing;
  const ps = (sx + sy) / 2;
  const rT = Math.max(1, Math.round(WINDOW_MM.texture / ps));
  const rF = inp.fineRadiusPx;
  const rC = Math.max(rT, Math.round(WINDOW_MM.consolidation / ps));
  const rH = Math.max(rT, Math.round(WINDOW_MM.honeycomb / ps));
  // The texture image: the density box itself when it is the texture box, else a ±TEXTURE_RADIUS box
  // made per slice (scan-physics.ts: a wide box averages reticulation away).
  const ownTexture = inp.denoiseRadiusPx > TEXTURE_RADIUS;
  const texture = new Int16Array(ownTexture ? bn : 0);
  const textureScratch = ownTexture ? boxMeanScratch(box) : null;
  const sat = windowSums(bw, bh, Math.max(rT, rF, rC, rH));
  const meanField = ownTexture ? Q.sTex : Q.sAll;
  const [winT, winF, winC, winH] = [rT, rF, rC, rH].map((r) => sat.window(r)) as [Window, Window, Window, Window];
  const depth = new Float32Array(bn);
  const scratch: DistanceScratch = distanceScratch(bw, bh);
  const histogram = new Float64Array(65536);
  const columns = new Int32Array(bw);
  const dense = new Float32Array(bh), contrast = new Float32Array(bh), ggo = new Float32Array(bh), elevated = new Float32Array(bh), darker = new Float32Array(bh), bright = new Float32Array(bh);
  for (let y = 0; y < bh; y++) {
    const P = inp.parenchyma[box.y0 + y]!;
    const C = inp.t.tissue - P;
    contrast[y] = C;
    dense[y] = P + K.dense * C;
    bright[y] = P + K.vessel * C;
    ggo[y] = P + Math.max(K.groundGlass * C, K.noiseMargin * inp.t.noise);
    elevated[y] = P + Math.max(K.elevated * C, K.noiseMargin * inp.t.noise);
    // Air-containing: clearly below parenchyma — a cyst too small to reach the half-way level after the
    // PSF still darkens its centre; reticulation's gaps are parenchyma.
    // …and beyond the dip a sharp kernel digs beside a structure (at most its undershoot of the full
    // lung–tissue contrast), so the walls' own ringing is not cyst air.
    darker[y] = P - Math.max(K.noiseMargin * inp.t.noise, inp.edgeUndershoot * C);
  }
  const texNoise = inp.fineNoiseHu * inp.fineNoiseHu;
  // The texture a reticulation must show is scaled from the reference scan to the texture a thin line
  // keeps through this scan's PSF and the engine's own filters (line-response.ts).
  const lineAttenuation = fineLineResponse(inp.psfSigmaMm, ps);
  // Vessels: bright structures (blood, near soft tissue) at least VESSEL_MIN_DIAMETER_MM thick in-plane (an
  // opening), with the halo the PSF and the denoising box spread around them. Fine lines never have such a
  // core; a band of fibrotic lung (−450…−300 HU) is not bright.
  const coreR = Math.max(1, Math.round(VESSEL_MIN_DIAMETER_MM / 2 / ps));
  const reachR = coreR + Math.max(1, Math.round((2 * inp.psfSigmaMm + inp.denoiseRadiusMm) / ps));
  const vessel = new Uint8Array(bn), core = new Uint8Array(bn), brightMask = new Uint8Array(bn), lung = new Uint8Array(bn);
  const morph = squareScratch(bw, bh);
  // The pleural rim: lung voxels within reach of the chest wall's blurred edge (2 PSF σ + the box) are
  // raised by the wall, not by disease — a step of C that is still 2 % of C at 2σ — and that step is
  // steep, so they read as raised, textured lung. They are classified, but left out of the window
  // statistics, as vessels are. Without it a soft kernel (σ 1.2 mm) made 4 % of a normal lung reticulation
  // and an emphysema series "fibrosis" (docs/reference-engine.md, "Classes").
  const rimMm = 2 * inp.psfSigmaMm + inp.denoiseRadiusMm;
  // Enclosed air cells (air-basins.ts): a cell's mean over n voxels has the denoising box's noise scaled
  // by √(box voxels / n) — the box is itself such a mean — and must also clear the kernel's undershoot.
  const open = new Uint8Array(bn), voxelKind = new Uint8Array(bn), rel = new Float32Array(bn), airCell = new Uint8Array(bn);
  const cells = basinScratch(bn);
  const cls = new Uint8Array(bn);
  const boxVoxels = (2 * inp.denoiseRadiusPx + 1) ** 2 * (2 * inp.denoiseRadiusZ + 1);
  const meanContrast = inp.t.tissue - inp.parenchyma[(box.y0 + box.y1) >> 1]!;
  const cellLimits: BasinLimits = {
    minVoxels: CYST_MIN_VOXELS,
    maxVoxels: Math.ceil((Math.PI * (CYST_MAX_DIAMETER_MM / 2) ** 2) / (sx * sy)),
    margin: (n) => Math.max(CELL_NOISE_MARGIN * inp.t.noise * Math.sqrt(boxVoxels / n), inp.edgeUndershoot * meanContrast),
  };

  function classify(z: number, classMap?: Uint8Array): SliceStats {
    const st = emptySliceStats();
    const zi = z - box.z0;
    const base = z * w * h, o = zi * bn;
    // This slice's box as flat arrays indexed like the box (i = y · bw + x): which voxels are lung, their
    // denoised density and their air-hole class.
    for (let y = 0; y < bh; y++) {
      const src = base + (box.y0 + y) * w + box.x0;
      for (let x = 0; x < bw; x++) lung[y * bw + x] = inp.labels[src + x] === LABEL.lung ? 1 : 0;
    }
    const density = inp.denoised.subarray(o, o + bn), hs = inp.holes.subarray(o, o + bn);
    // vessel mask of this slice: bright voxels, opened to their thick cores, dilated by the halo
    for (let y = 0; y < bh; y++) {
      for (let x = 0; x < bw; x++) {
        const i = y * bw + x;
        brightMask[i] = lung[i] && hs[i] === HOLE.none && density[i]! > bright[y]! ? 1 : 0;
      }
    }
    // Enclosed air cells: the lung cut along voxels raised above parenchyma (walls, vessels).
    for (let y = 0; y < bh; y++) {
      const P = inp.parenchyma[box.y0 + y]!, src = base + (box.y0 + y) * w + box.x0;
      for (let x = 0; x < bw; x++) {
        const i = y * bw + x;
        open[i] = lung[i] && density[i]! <= P + CELL_WALL_K * contrast[y]! ? 1 : 0;
        rel[i] = inp.hu[src + x]! - P;
        voxelKind[i] = hs[i] === HOLE.tube ? VOXEL.airway : lung[i] && density[i]! < darker[y]! ? VOXEL.air : VOXEL.plain;
      }
    }
    airCell.fill(0);
    markAirBasins(open, rel, voxelKind, bw, bh, cellLimits, cells, airCell);
    erodeSquare(brightMask, bw, bh, coreR, morph, core);
    dilateSquare(core, bw, bh, reachR, morph, vessel);
    let any = false;
    const tex = ownTexture ? texture : density;
    if (ownTexture) boxMeanSlice(inp.hu, inp.labels, w, h, box, TEXTURE_RADIUS, inp.denoiseRadiusZ, z, texture, textureScratch!);
    sliceDistances(inp.zDist, bw, bh, zi, sx, sy, sz, scratch, depth);
    const half = ps / 2;
    // Summed-area tables over lung voxels (window-sums.ts). The pad's first rows and columns stay zero.
    const { S, pad, rows, cols } = sat;
    const stride = cols * QUANTITIES;
    for (let Y = pad + 1; Y < rows; Y++) {
      const y = Y - 1 - pad;
      const inBox = y < bh;
      let c = 0, dn = 0, ho = 0, dk = 0, nh = 0, el = 0, sNH = 0, sHo = 0, sAll = 0, sTx = 0;
      for (let X = pad + 1, t = Y * stride + X * QUANTITIES; X < cols; X++, t += QUANTITIES) {
        const x = X - 1 - pad;
        const i = y * bw + x;
        if (inBox && x < bw && lung[i]) {
          any = true;
          const v = density[i]!;
          c++; sAll += v;
          if (ownTexture) sTx += tex[i]!;
          // Airway lumen (a tube) is not cyst air, even inside fibrosis.
          const hl = hs[i]!;
          if (hl === HOLE.round || (hl === HOLE.none && (v < darker[y]! || airCell[i]))) dk++;
          if (hl !== HOLE.none) { ho++; sHo += v; }
          else if (!vessel[i] && depth[i]! - half >= rimMm) {
            nh++; sNH += v;
            if (v > dense[y]!) dn++;
            if (v > elevated[y]!) el++;
          }
        }
        const u = t - stride;
        S[t + Q.cnt] = S[u + Q.cnt]! + c; S[t + Q.dense] = S[u + Q.dense]! + dn; S[t + Q.hole] = S[u + Q.hole]! + ho;
        S[t + Q.dark] = S[u + Q.dark]! + dk; S[t + Q.nonHole] = S[u + Q.nonHole]! + nh; S[t + Q.elevated] = S[u + Q.elevated]! + el;
        S[t + Q.sNH] = S[u + Q.sNH]! + sNH; S[t + Q.sHole] = S[u + Q.sHole]! + sHo; S[t + Q.sAll] = S[u + Q.sAll]! + sAll;
        S[t + Q.sTex] = S[u + Q.sTex]! + sTx;
      }
    }
    if (!any) return st;
    // Fine-scale texture: squared departure of non-hole voxels from their neighbourhood mean (radius rF).
    // A step between two smooth regions contributes only near the step, a thick vessel only at its
    // surface; fine lines contribute throughout.
    for (let Y = pad + 1; Y < rows; Y++) {
      const y = Y - 1 - pad;
      const inBox = y < bh;
      let e = 0;
      for (let X = pad + 1, t = Y * stride + X * QUANTITIES; X < cols; X++, t += QUANTITIES) {
        const x = X - 1 - pad;
        const i = y * bw + x;
        if (inBox && x < bw && lung[i]) {
          if (hs[i] === HOLE.none && !vessel[i] && depth[i]! - half >= rimMm) {
            const v = tex[i]!;
            const cell = t - stride - QUANTITIES; // the window centred on (x, y)
            const mean = winF(cell, meanField) / winF(cell, Q.cnt);
            e += (v - mean) * (v - mean);
          }
        }
        S[t + Q.fine] = S[t - stride + Q.fine]! + e;
      }
    }
    for (let y = 0; y < bh; y++) {
      const P = inp.parenchyma[box.y0 + y]!, C = contrast[y]!;
      for (let x = 0; x < bw; x++) {
        const i = y * bw + x;
        if (!lung[i]) continue;
        const v = density[i]!;
        const hl = hs[i]!;
        const dmm = depth[i]! - half;
        let c: number = CLASS.normal;
        const cell = sat.cell(x, y);
        const nh = winT(cell, Q.nonHole);
        const rise = nh > 0 ? winT(cell, Q.sNH) / nh - P : 0;
        if (v > P + K.consolidation * C && winC(cell, Q.dense) >= K.consolidationFill * winC(cell, Q.cnt)) {
          c = CLASS.consolidation;
        } else if (dmm <= HONEYCOMB_MAX_DEPTH_MM && isHoneycomb(cell, P, C)) {
          c = CLASS.honeycombing;
        } else if (hl === HOLE.round || (hl === HOLE.none && v < inp.t.emphysema)) {
          c = CLASS.emphysema;
        } else if (nh > 0 && !vessel[i]) {
          const spread = winT(cell, Q.elevated) / nh;
          const fine2 = winT(cell, Q.fine) / nh;
          const textured = fine2 >= texNoise + (lineAttenuation * K.reticTexture * C) ** 2 && fine2 >= (lineAttenuation * K.reticTextureShare * rise) ** 2;
          DEBUG?.(base + (box.y0 + y) * w + box.x0 + x, rise / C, spread, Math.sqrt(fine2) / C, winH(cell, Q.dark) / winH(cell, Q.cnt));
          if (rise >= K.reticMean * C && spread >= K.reticSpread && textured) c = CLASS.reticulation;
          else if (hl === HOLE.none && v >= ggo[y]! && v <= dense[y]! && spread >= K.groundGlassSpread && rise >= ggo[y]! - P) c = CLASS.groundGlass;
        }
        cls[i] = c;
      }
    }
    claimCystInteriors(hs, lung, cls, bw, bh, cells);
    const split = splitColumn(inp.labels, base, w, box, columns);
    for (let y = 0; y < bh; y++) {
      for (let x = 0; x < bw; x++) {
        const i = y * bw + x;
        if (!lung[i]) continue;
        const c = cls[i]!;
        const hl = hs[i]!;
        const dmm = depth[i]! - half;
        // Accumulate.
        st.lung++;
        st.classes[c]!++;
        const g = base + (box.y0 + y) * w + box.x0 + x;
        histogram[inp.hu[g]! + 32768]!++;
        if (classMap) classMap[g] = c + 1;
        const fib = c === CLASS.reticulation || c === CLASS.honeycombing;
        const right = x < split; // LPS: columns grow towards the patient's left
        if (right) { st.rightLung++; if (fib) st.rightFibrosis++; }
        if (fib) {
          st.fibrosis++;
          if (dmm <= SUBPLEURAL_DEPTH_MM) st.fibrosisSubpleural++;
          if (c === CLASS.honeycombing && dmm <= SUBPLEURAL_DEPTH_MM) st.honeycombSubpleural++;
          if (c === CLASS.honeycombing && hl !== HOLE.none) { st.honeycombAir++; st.honeycombAirByDepth[Math.min(DEPTH_BINS - 1, Math.floor(dmm / DEPTH_BIN_MM))]!++; }
          if (c === CLASS.reticulation && hl === HOLE.tube && dmm <= TRACTION_MAX_DEPTH_MM) st.tractionTube++;
        }
        if (dmm <= SPARING_INNER_MM) {
          const abnormal = fib || c === CLASS.groundGlass;
          if (dmm <= SPARING_SHELL_MM) { st.shellLung++; if (abnormal) st.shellAbnormal++; }
          else { st.innerLung++; if (abnormal) st.innerAbnormal++; }
        }
      }
    }
    return st;

    /**
     * Clustered cysts with walls: enough air holes in the window, and wall mass around them. The wall
     * mass is counted so that no blur changes it: the excess of non-hole voxels over parenchyma plus
     * the excess of hole voxels over air, per voxel (the PSF moves density between the two, never
     * creates it). Emphysema, whose holes have no walls, comes out near zero.
     */
    function isHoneycomb(cell: number, P: number, C: number): boolean {
      const cnt = winH(cell, Q.cnt), holes = winH(cell, Q.hole);
      if (winH(cell, Q.dark) < K.honeycombAir * cnt) return false;
      const nh = winH(cell, Q.nonHole);
      const wall = (winH(cell, Q.sNH) - nh * P + winH(cell, Q.sHole) - holes * inp.t.air) / (nh + holes);
      return wall >= K.honeycombWall * C;
    }
  }
  return { classify, histogram };
}

/**
 * A honeycomb cyst is one structure: its air is honeycombing however far its centre lies from the walls.
 * The honeycomb test reads a 10 mm window, so in a cyst wider than the window the voxels near the wall
 * pass it and the centre, whose window holds only air, falls to emphysema (a 14 mm fibre-family cyst:
 * a ring of honeycombing around an emphysema core). Each 4-connected cross-section of a round air hole
 * on the slice is honeycombing when most of its edge (the voxels beside its walls) is; emphysema's holes
 * have no walls, so their edges do not pass the honeycomb test and they stay.
 */
export function claimCystInteriors(holes: Uint8Array, lung: Uint8Array, cls: Uint8Array, bw: number, bh: number, s: BasinScratch): void {
  const n = bw * bh;
  const { label, stack, members } = s;
  label.fill(0, 0, n);
  for (let start = 0; start < n; start++) {
    if (holes[start] !== HOLE.round || !lung[start] || label[start]) continue;
    let sp = 0, count = 0, honey = 0, emph = 0;
    stack[sp++] = start;
    label[start] = 1;
    while (sp > 0) {
      const i = stack[--sp]!;
      members[count++] = i;
      const x = i % bw;
      const inside = (j: number) => holes[j] === HOLE.round && lung[j];
      const joins = (j: number) => !label[j] && inside(j);
      // The cross-section's edge (a voxel with a neighbour outside the hole) is what touches the walls.
      const edge = x === 0 || x === bw - 1 || i < bw || i >= n - bw || !inside(i - 1) || !inside(i + 1) || !inside(i - bw) || !inside(i + bw);
      if (edge && cls[i] === CLASS.honeycombing) honey++;
      else if (edge && cls[i] === CLASS.emphysema) emph++;
      if (x > 0 && joins(i - 1)) { label[i - 1] = 1; stack[sp++] = i - 1; }
      if (x < bw - 1 && joins(i + 1)) { label[i + 1] = 1; stack[sp++] = i + 1; }
      if (i >= bw && joins(i - bw)) { label[i - bw] = 1; stack[sp++] = i - bw; }
      if (i < n - bw && joins(i + bw)) { label[i + bw] = 1; stack[sp++] = i + bw; }
    }
    if (honey === 0 || honey < emph) continue;
    for (let k = 0; k < count; k++) if (cls[members[k]!] === CLASS.emphysema) cls[members[k]!] = CLASS.honeycombing;
  }
}

export function emptySliceStats(): SliceStats {
  return {
    lung: 0, classes: [0, 0, 0, 0, 0, 0], fibrosis: 0, fibrosisSubpleural: 0, honeycombSubpleural: 0, honeycombAir: 0,
    honeycombAirByDepth: new Array<number>(DEPTH_BINS).fill(0), tractionTube: 0, shellLung: 0, shellAbnormal: 0, innerLung: 0, innerAbnormal: 0, rightLung: 0, rightFibrosis: 0,
  };
}

/**
 * The column (box coordinates) separating the right lung from the left on one slice: the one with the
 * least lung in the middle third of the lungs' extent (the mediastinum, or the anterior junction line).
 * Assumes the standard axial orientation (rows along patient +x, DICOM LPS).
 */
function splitColumn(labels: Uint8Array, base: number, w: number, box: Box3, columns: Int32Array): number {
  const bw = box.x1 - box.x0 + 1;
  columns.fill(0);
  for (let y = box.y0; y <= box.y1; y++) {
    const o = base + y * w + box.x0;
    for (let x = 0; x < bw; x++) if (labels[o + x] === LABEL.lung) columns[x]!++;
  }
  let x0 = bw, x1 = -1;
  for (let x = 0; x < bw; x++) if (columns[x]) { if (x < x0) x0 = x; x1 = x; }
  if (x1 < 0) return bw >> 1;
  const a = x0 + Math.floor((x1 - x0) / 3), b = x1 - Math.floor((x1 - x0) / 3);
  const mid = (x0 + x1) / 2;
  let best = a, bestCount = Infinity;
  for (let x = a; x <= b; x++) {
    const c = columns[x]!;
    if (c < bestCount || (c === bestCount && Math.abs(x - mid) < Math.abs(best - mid))) { best = x; bestCount = c; }
  }
  return best;
}
