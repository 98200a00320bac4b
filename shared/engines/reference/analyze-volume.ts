/**
 * The reference engine's analysis (docs/reference-engine.md): measure the scan, segment the lungs in 3D,
 * denoise, find air holes and their shapes, classify every lung voxel, summarise. Pure: no I/O, no
 * clock; the same volume always gives the same result.
 */
import type { Volume } from '../../volume/assemble-volume.js';
import { LABEL } from './body.js';
import { emptySliceStats, type SliceStats } from './classify.js';
import { classifyHoles, type HoleInput } from './air-holes.js';
import { denoiseOutput, type Box3 } from './denoise.js';
import { segmentLungs } from './lung-mask.js';
import { zDistances } from './pleural-distance.js';
import { measureScan, modeOf, type ScanPhysics } from './scan-physics.js';
import { openSlicePool, slabCuts, type SlicePool } from './slice-pool.js';
import { summarize, type AnalysisResult } from './summarize.js';
import { K, deriveThresholds, holeThreshold, lungThreshold } from './thresholds.js';
import { asShared, sharedArray, threadCount } from './threads.js';

export type { AnalysisResult } from './summarize.js';

/** Parenchyma bands for the dependent gradient: about 8 mm of rows each. */
const BAND_MM = 8;
/** Normal lung is 60–120 HU denser at the back than at the front in a supine patient; a fitted gradient
 *  is kept within this many HU per 100 mm of height so disease confined to the bases cannot fake one. */
const MAX_GRADIENT_HU_PER_100MM = 80;
/** Single voxels can be thresholded when the level is this many noise SDs from both sides. */
const MAJORITY_NOISE_MARGIN = 1.5;

export type AnalyzeOptions = {
  /** When given (one byte per voxel), receives each lung voxel's class + 1 (0 = not lung). */
  classMap?: Uint8Array;
  /** Threads to classify on (ILDFLOW_ENGINE_THREADS; 0 or absent = every core). Same result on any. */
  threads?: number;
  /** Called as each stage ends, with its name (`ildflow analyze --profile` times them). */
  onStage?: StageHook;
};

export type StageHook = (stage: string) => void;

/** Analyses a HU volume. Deterministic; the caller adds timings. */
export async function analyzeVolume(volume: Volume, opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const pool = openSlicePool(threadCount(opts.threads));
  // The arrays the slice threads read and write are on shared memory (assembleVolume's volume already is;
  // a caller's class map that is not is written through a shared copy).
  const classMap = opts.classMap && asShared(opts.classMap);
  try {
    return await analyzeWith({ ...volume, hu: asShared(volume.hu) }, pool, classMap, opts.onStage ?? (() => {}));
  } finally {
    await pool.close();
    if (classMap && classMap !== opts.classMap) opts.classMap!.set(classMap);
  }
}

async function analyzeWith(volume: Volume, pool: SlicePool, classMap: Uint8Array | undefined, stage: StageHook): Promise<AnalysisResult> {
  const { width: w, height: h, depth: d, hu } = volume;
  const n = w * h;
  const labels = sharedArray(Uint8Array, n * d);
  await pool.run('outside', { hu, labels, w, h }, slabCuts(0, d - 1, pool.parts));
  stage('outside air and body');
  const physics = measureScan(volume, labels);
  stage('scan physics');
  const p0 = parenchymaEstimate(volume, labels, (physics.airHu + physics.tissueHu) / 2);
  const mask = await segmentLungs(volume, labels, lungThreshold(p0, physics.tissueHu), holeThreshold(physics.airHu, p0), physics.tissueHu, physics.psfSigmaMm, physics.noiseSdHu, pool, stage);
  if (mask.lungVoxels === 0) return summarize({ volume, stats: [], histogram: new Float64Array(65536), mask, physics, parenchymaHu: p0, tubeVoxels: 0, cystDiameterMm: 0 });

  const box: Box3 = {
    x0: Math.max(0, mask.box.x0 - 1), y0: Math.max(0, mask.box.y0 - 1), z0: mask.box.z0,
    x1: Math.min(w - 1, mask.box.x1 + 1), y1: Math.min(h - 1, mask.box.y1 + 1), z1: mask.box.z1,
  };
  const denoised = denoiseOutput(box);
  await pool.run('denoise', { hu, labels, w, h, box, r: physics.denoise.radiusXY, rz: physics.denoise.radiusZ, out: denoised }, slabCuts(box.z0, box.z1, pool.parts));
  stage('denoise');
  const parenchyma = parenchymaProfile(denoised, labels, w, h, box, volume.pixelSpacingMm[1]);
  const pMid = parenchyma[Math.round((box.y0 + box.y1) / 2)]!;
  const t = deriveThresholds(physics, pMid);
  const holes = sharedArray(Uint8Array, denoised.length);
  await pool.run('holes', holeInput(volume, labels, box, denoised, parenchyma, physics, holes), slabCuts(box.z0, box.z1, pool.parts));
  const spacing = [volume.pixelSpacingMm[0], volume.pixelSpacingMm[1], volume.sliceSpacingMm] as const;
  const { tubeVoxels, cystDiameterMm } = classifyHoles(holes, box, spacing);
  const zDist = zDistances(labels, w, h, d, box);
  stage('parenchyma, air holes and their shapes');
  const input = { hu, labels, w, h, box, denoised, holes, zDist, spacing, parenchyma, psfSigmaMm: physics.psfSigmaMm, denoiseRadiusMm: physics.denoise.radiusXY * volume.pixelSpacingMm[0],
    denoiseRadiusPx: physics.denoise.radiusXY, denoiseRadiusZ: physics.denoise.radiusZ,
    fineRadiusPx: physics.fineRadiusPx, fineNoiseHu: physics.fineNoiseHu, edgeUndershoot: physics.edgeUndershoot, t,
  };
  // Slabs of about equal lung-box area (the classifier's work is its box's voxels).
  const area = new Float64Array(d);
  for (let z = box.z0; z <= box.z1; z++) {
    const b = mask.boxes.subarray(4 * z, 4 * z + 4);
    if (b[2]! >= 0) area[z] = (b[2]! - b[0]! + 1) * (b[3]! - b[1]! + 1);
  }
  const slabs = await pool.run('classify', { ...input, classMap }, slabCuts(box.z0, box.z1, pool.parts, area));
  stage('classify');
  const stats: SliceStats[] = [];
  for (let z = 0; z < box.z0; z++) stats.push(emptySliceStats());
  const histogram = new Float64Array(65536);
  for (const slab of slabs) {
    stats.push(...slab.stats);
    for (let i = 0; i < histogram.length; i++) histogram[i]! += slab.histogram[i]!;
  }
  for (let z = box.z1 + 1; z < d; z++) stats.push(emptySliceStats());
  return summarize({ volume, stats, histogram, mask, physics, parenchymaHu: pMid, tubeVoxels, cystDiameterMm, thresholds: t });
}

/**
 * What the air-hole stage needs (air-holes.ts): the level per image row is half-way between air and the
 * row's parenchyma, and never within the noise margin of parenchyma either — at low dose the half-way
 * level is closer to parenchyma than the denoised noise allows, and noise alone would make "holes"
 * (emphysema). Single voxels count too when the half-way margin is at least 1.5 noise SDs (a false 3 × 3
 * majority is then rarer than 1 in 5,000).
 */
function holeInput(volume: Volume, labels: Uint8Array, box: Box3, denoised: Int16Array, parenchyma: Float32Array, physics: ScanPhysics, holes: Uint8Array): HoleInput {
  const levels = new Float64Array(volume.height);
  for (let y = box.y0; y <= box.y1; y++) {
    levels[y] = Math.min(holeThreshold(physics.airHu, parenchyma[y]!), parenchyma[y]! - K.noiseMargin * physics.denoisedNoiseSdHu);
  }
  const margin = (parenchyma[Math.round((box.y0 + box.y1) / 2)]! - physics.airHu) / 2;
  return { hu: volume.hu, labels, w: volume.width, h: volume.height, box, denoised, levels, fine: margin >= MAJORITY_NOISE_MARGIN * physics.noiseSdHu, holes };
}

/** First estimate of parenchyma HU: the mode of body voxels below the air–tissue half-way level. */
function parenchymaEstimate(volume: Volume, labels: Uint8Array, below: number): number {
  const { width: w, height: h, depth: d, hu } = volume;
  const n = w * h;
  const values: number[] = [];
  for (let k = 0; k < 16; k++) {
    const base = Math.min(d - 1, Math.floor(((k + 0.5) * d) / 16)) * n;
    for (let i = 0; i < n; i += 3) if (labels[base + i] === LABEL.tissue && hu[base + i]! < below) values.push(hu[base + i]!);
  }
  return values.length > 1000 ? modeOf(values, -1000, -600, 10) : -860;
}

/**
 * Parenchyma HU for each image row: the mode of the denoised lung density in bands of rows, fitted with a
 * straight line (weighted by the band's lung voxels), its slope kept physiological.
 */
function parenchymaProfile(denoised: Int16Array, labels: Uint8Array, w: number, h: number, box: Box3, rowMm: number): Float32Array {
  const bw = box.x1 - box.x0 + 1, bh = box.y1 - box.y0 + 1, bn = bw * bh;
  const bandRows = Math.max(1, Math.round(BAND_MM / rowMm));
  const bands = Math.ceil(bh / bandRows);
  const hist = Array.from({ length: bands }, () => new Float64Array(80)); // −1000…−600 in 5 HU bins
  for (let z = box.z0; z <= box.z1; z++) {
    const base = z * w * h, o = (z - box.z0) * bn;
    for (let y = 0; y < bh; y++) {
      const src = base + (box.y0 + y) * w + box.x0;
      const hb = hist[Math.floor(y / bandRows)]!;
      for (let x = 0; x < bw; x += 2) {
        if (labels[src + x] !== LABEL.lung) continue;
        const v = denoised[o + y * bw + x]!;
        if (v >= -1000 && v < -600) hb[Math.floor((v + 1000) / 5)]!++;
      }
    }
  }
  let sw = 0, sy = 0, sp = 0, syy = 0, syp = 0;
  for (let b = 0; b < bands; b++) {
    const hb = hist[b]!;
    let total = 0, best = 0, bestV = -1;
    for (let i = 0; i < 80; i++) {
      total += hb[i]!;
      const s = (hb[i - 1] ?? 0) + 2 * hb[i]! + (hb[i + 1] ?? 0);
      if (s > bestV) { bestV = s; best = i; }
    }
    if (total < 200) continue;
    const y = (b + 0.5) * bandRows, p = -1000 + (best + 0.5) * 5;
    sw += total; sy += total * y; sp += total * p; syy += total * y * y; syp += total * y * p;
  }
  const out = new Float32Array(h);
  if (sw === 0) return out.fill(-860);
  const my = sy / sw, mp = sp / sw;
  const varY = syy / sw - my * my;
  let slope = varY > 0 ? (syp / sw - my * mp) / varY : 0; // HU per row
  const maxSlope = (MAX_GRADIENT_HU_PER_100MM / 100) * rowMm;
  slope = Math.max(0, Math.min(maxSlope, slope)); // supine: denser towards +y (posterior)
  for (let y = 0; y < h; y++) out[y] = mp + slope * (Math.min(box.y1, Math.max(box.y0, y)) - box.y0 - my);
  return out;
}
