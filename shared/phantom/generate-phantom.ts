/**
 * A synthetic chest CT with known truth, written as real DICOM Part 10 files (CT Image Storage, Explicit VR
 * Little Endian) via dcmjs. The anatomy: body with subcutaneous fat and chest-wall muscle, ribs, spine,
 * mediastinum (fat, aorta, heart), trachea and main bronchi, tapering vessels, the liver dome under the
 * right base and the stomach (with its gas bubble) under the left, lungs that change shape from apex to
 * base; spatially correlated noise. Every voxel gets a label (outside, body, airway, lung, vessel, ground
 * glass, reticulation, honeycombing, emphysema, consolidation) and an HU value from the label's range
 * (docs/design.md §5 "The reference engine"); `ground-truth.json` is counted from those labels and the final
 * noisy values, never guessed. The series is
 * generated slice by slice, so a 512×512×300 phantom needs one slice of memory, not the volume.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import type { Category } from '../engines/contract.js';
import { zoneOfSlice } from '../engines/reference/zones.js';

export type PhantomPattern = 'normal' | 'uip' | 'probable_uip' | 'nsip' | 'emphysema';

export type PhantomOptions = {
  dir: string;
  seed?: number;
  pattern?: PhantomPattern;
  rows?: number;
  columns?: number;
  slices?: number;
  sliceThicknessMm?: number;
  /** Distance between slice centres; defaults to the thickness (contiguous slices). */
  sliceSpacingMm?: number;
  /** In-plane spacing; defaults to min(1, 360 / columns) mm so the default series is eligible. */
  pixelSpacingMm?: number;
  /** −1024 stores HU + 1024 in signed int16 (common on scanners); 0 stores HU directly. */
  rescaleIntercept?: -1024 | 0;
  patient?: { id?: string; name?: string; birthDate?: string; sex?: 'F' | 'M' | 'O' };
  study?: { studyInstanceUid?: string; accessionNumber?: string; studyDate?: string };
  seriesInstanceUid?: string;
  /** Number instances in a shuffled order, so only ImagePositionPatient gives the true order. */
  shuffleInstanceNumbers?: boolean;
  /** Image noise standard deviation in HU (spatially correlated). */
  noiseHu?: number;
  /** Called with each slice's truth labels (PHANTOM_LABELS values), cranial first; the array is reused. */
  onSliceLabels?: (sliceIndex: number, labels: Uint8Array) => void;
};

/** The values of the truth label map handed to `onSliceLabels`. */
export const PHANTOM_LABELS = {
  outside: 0, body: 1, airway: 2, lung: 3, vessel: 4, groundGlass: 5, reticulation: 6, honeycombing: 7, emphysema: 8, consolidation: 9,
} as const;

export type ZoneTruth = { fibrosisPercent: number };
export type PhantomGroundTruth = {
  schema: 'ildflow.phantom-truth/1';
  pattern: PhantomPattern;
  expectedCategory: Category;
  seed: number;
  size: { rows: number; columns: number; slices: number };
  pixelSpacingMm: number;
  sliceThicknessMm: number;
  sliceSpacingMm: number;
  /** Standard deviation of the (spatially correlated) image noise, HU. */
  noiseHu: number;
  lungVoxels: number;
  lungVolumeMl: number;
  /** Left = patient left (image right, LPS +x). */
  lungs: { left: { volumeMl: number }; right: { volumeMl: number } };
  meanLungDensityHu: number;
  haaPercent: number;
  laa950Percent: number;
  extents: { normal: number; groundGlass: number; reticulation: number; honeycombing: number; emphysema: number; consolidation: number };
  zones: { upper: ZoneTruth; middle: ZoneTruth; lower: ZoneTruth };
  /** Index (cranial → caudal) of the first and last slice containing lung. */
  lungSlices: { first: number; last: number };
};

export type PhantomResult = {
  files: string[];
  groundTruth: PhantomGroundTruth;
  studyInstanceUid: string;
  seriesInstanceUid: string;
};

const EXPECTED: Readonly<Record<PhantomPattern, Category>> = {
  normal: 'no_fibrosis',
  uip: 'uip',
  probable_uip: 'probable_uip',
  nsip: 'alternative_diagnosis',
  emphysema: 'no_fibrosis',
};

/** Voxel labels of the truth map. Vessels (and bronchial walls inside the lung) are lung but count as
 *  normal parenchyma in extents; the airway lumen is not lung. */
const enum L {
  Outside = 0,
  Body = 1,
  Airway = 2,
  Lung = 3,
  Vessel = 4,
  GroundGlass = 5,
  Reticulation = 6,
  Honeycombing = 7,
  Emphysema = 8,
  Consolidation = 9,
}

// Hounsfield values of each tissue before image noise, after typical adult non-contrast chest CT and the
// ranges of docs/design.md §5 (normal lung −950…−700; ground glass about −750…−400; consolidation > −100).
const HU = {
  air: -1000,
  fat: -100,
  muscle: 45,
  softTissue: 40,
  blood: 40,
  liver: 60,
  cancellousBone: 250,
  corticalBone: 800,
  lung: -860,
  vessel: 40,
  groundGlass: -620,
  reticLine: -300, // fine lines, partial-volumed: inside the HAA range
  reticGap: -780,
  cyst: -990,
  cystWall: -100,
  emphysema: -985,
  consolidation: 35,
} as const;

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const IMPLEMENTATION_CLASS_UID = '2.25.208776149925624113455826452318826429937';

/** Diaphragm thickness between lung and the abdominal domes, in-plane and above their tops. */
const DIAPHRAGM_MM = 4;
const DIAPHRAGM_ABOVE_MM = 6;

/** Deterministic PRNG (mulberry32): the same seed gives byte-identical pixels. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A UID under the 2.25 root (PS3.5 §B.2) derived from the seed, so reruns give the same UIDs. */
export function derivedUid(...parts: (string | number)[]): string {
  const hex = createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 30);
  return `2.25.${BigInt('0x' + hex).toString()}`;
}

function hash3(i: number, j: number, k: number, seed: number): number {
  let h = Math.imul(i, 374761393) ^ Math.imul(j, 668265263) ^ Math.imul(k, 2147483647) ^ Math.imul(seed, 1274126177);
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** CT noise is spatially correlated (the reconstruction kernel shapes its power spectrum): white noise
 *  smoothed by a separable [1 2 1]/4 kernel, which keeps 0.375² of the variance in 2D, rescaled so the
 *  pixel standard deviation is the requested one. */
const CORRELATED_NOISE_GAIN = 1 / (0.375 * 0.375) ** 0.5;

/** Writes the phantom series and `ground-truth.json` into `opts.dir`. */
export async function generatePhantom(opts: PhantomOptions): Promise<PhantomResult> {
  const seed = opts.seed ?? 1;
  const pattern = opts.pattern ?? 'normal';
  const rows = opts.rows ?? 256;
  const columns = opts.columns ?? 256;
  const slices = opts.slices ?? 120;
  const thickness = opts.sliceThicknessMm ?? 1.25;
  const spacingZ = opts.sliceSpacingMm ?? thickness;
  const ps = opts.pixelSpacingMm ?? Math.min(1, 360 / columns);
  const intercept = opts.rescaleIntercept ?? -1024;
  const rand = mulberry32(seed);
  // Each seed is another patient: body and lung size, the extent of the disease and the image noise vary
  // within plausible ranges, so the validation over seeds is not the same picture with other noise.
  const between = (lo: number, hi: number): number => lo + (hi - lo) * rand();
  const who = {
    body: between(0.93, 1.05),
    lung: between(0.92, 1.05),
    heart: between(0.9, 1.1),
    reticMm: between(10, 18), // depth of the subpleural fibrotic band at the bases
    honeycombMm: between(5, 9), // depth of the honeycomb rows
    honeycombFromF: between(0.66, 0.78), // where honeycombing starts, apex 0 … base 1
    nsipFromMm: between(4, 7), // the spared subpleural shell of NSIP
    nsipToMm: between(20, 30),
    emphysemaDensity: between(0.35, 0.55),
    noise: between(20, 35),
  };
  const noise = opts.noiseHu ?? Math.round(who.noise);
  if (rows < 32 || columns < 32 || slices < 3) throw new RangeError('phantom needs at least 32×32×3 voxels');

  const studyInstanceUid = opts.study?.studyInstanceUid ?? derivedUid('study', seed, pattern);
  const seriesInstanceUid = opts.seriesInstanceUid ?? derivedUid('series', seed, pattern, studyInstanceUid);
  const frameOfReferenceUid = derivedUid('for', seed, studyInstanceUid);
  const studyDate = opts.study?.studyDate ?? '20240115';
  const accession = opts.study?.accessionNumber ?? `PH${String(seed).padStart(6, '0')}`;
  const patient = {
    id: opts.patient?.id ?? `PHANTOM-${seed}`,
    name: opts.patient?.name ?? 'PHANTOM^CHEST',
    birthDate: opts.patient?.birthDate ?? '19500101',
    sex: opts.patient?.sex ?? 'O',
  };

  const gauss = (): number => {
    // Box–Muller; 1 - u avoids log(0).
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };

  const order = Array.from({ length: slices }, (_, i) => i);
  if (opts.shuffleInstanceNumbers) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
  }

  await mkdir(opts.dir, { recursive: true });

  // Geometry (mm). S is half the smaller field of view; anatomy is laid out in fractions of it, so the
  // phantom fills any matrix the same way. x is + towards the patient's left, y + posterior (LPS).
  const S = (Math.min(rows, columns) * ps) / 2;
  const cx = (columns * ps) / 2;
  const cy = (rows * ps) / 2;
  const zTop = (slices - 1) * spacingZ; // patient z of slice 0 (cranial); LPS +z is superior
  const lungStart = Math.round(slices * 0.04); // apex just below the first slices (neck, trachea)
  const lungEnd = Math.round(slices * 0.9); // below: upper abdomen (liver, stomach)
  const lungLenMm = (lungEnd - lungStart) * spacingZ;
  const carina = lungStart + Math.round((lungEnd - lungStart) * 0.3);
  /** Main bronchi run this far below the carina before they reach the hila. */
  const bronchusSlices = Math.max(2, Math.round(30 / spacingZ));
  // Liver dome under the right lung (higher) and stomach under the left, as ellipsoids whose tops are at
  // these fractions of the lung height (the right hemidiaphragm sits 1–2 cm above the left).
  const liverTopF = 0.78;
  const stomachTopF = 0.86;

  const vessels = Array.from({ length: 24 }, (_, i) => ({
    side: i < 12 ? -1 : 1,
    p: 0.15 + 0.6 * rand(),
    angle: 2 * Math.PI * rand(),
    drift: (rand() - 0.5) * 0.8,
    radiusMm: 1.2 + 1.6 * rand(),
  }));

  const n = rows * columns;
  const stored = new Int16Array(n);
  const white = new Float32Array(n);
  const smooth = new Float32Array(n);
  const perSlice = Array.from({ length: slices }, () => ({ lung: 0, fibrosis: 0 }));
  const classCount = { normal: 0, groundGlass: 0, reticulation: 0, honeycombing: 0, emphysema: 0, consolidation: 0 };
  const sideVoxels = { left: 0, right: 0 };
  let lungVoxels = 0;
  let sumHu = 0;
  let haa = 0;
  let laa = 0;
  const files: string[] = [];
  const labels = new Uint8Array(n);
  const mean = new Float32Array(n);

  // Texture scales respect the pixel grid so the painted pattern is resolvable at any spacing.
  const reticPeriod = Math.max(4, 3 * ps);
  const reticLine = Math.max(1, ps);
  const cell = Math.max(5, 4 * ps);
  const wall = Math.max(1, ps);
  const emphCell = Math.max(8, 4 * ps);
  const emphRadius = emphCell * 0.38;
  const consCell = 40;
  // paint()'s answer, kept in one object so the per-voxel call allocates nothing.
  const painted = { label: L.Lung as L, hu: HU.lung as number };
  const set = (label: L, hu: number): true => {
    painted.label = label;
    painted.hu = hu;
    return true;
  };

  for (let k = 0; k < slices; k++) {
    const zMm = k * spacingZ; // depth below slice 0, mm
    const f = lungEnd > lungStart ? (k - lungStart) / (lungEnd - lungStart) : -1; // 0 apex … 1 base
    const hasLung = f >= 0 && f <= 1;
    // Lungs grow from a small, round apex to full size, then shrink towards the costophrenic recesses;
    // they widen (left–right) more than they deepen, so the section turns from round to D-shaped.
    let s = hasLung ? 0.3 + 0.7 * Math.sqrt(Math.min(1, f / 0.55)) : 0;
    if (f > 0.85) s *= 1 - 0.5 * ((f - 0.85) / 0.15);
    const au = 0.27 * S * s * who.lung * (0.8 + 0.2 * Math.min(1, Math.max(0, f) / 0.5));
    const bv = 0.42 * S * s * who.lung;
    const lungCy = 0.04 * S * Math.max(0, f - 0.6); // the bases reach further back (posterior recesses)
    const heart = f >= 0.45 && f <= 0.97;
    const hasTrachea = k <= carina;
    const bt = (k - carina) / bronchusSlices; // 0 at the carina … 1 at the hila
    const hasBronchi = bt > 0 && bt <= 1;
    const reticDepth = f > 0.5 ? who.reticMm * Math.min(1, (f - 0.5) / 0.25) : 0;
    const zBlock = Math.floor(zMm / cell);
    const thorax = k <= lungEnd + 2;
    // Dome cross-sections: radius of an ellipsoid cap at this depth below its top.
    const dome = (topF: number, rInPlane: number, rZ: number): number => {
      const below = (f - topF) * lungLenMm;
      if (below < 0) return 0;
      const t = Math.min(1, below / rZ);
      return rInPlane * Math.sqrt(1 - (1 - t) * (1 - t));
    };
    const liverR = dome(liverTopF, 0.42 * S, 0.5 * lungLenMm);
    const stomachR = dome(stomachTopF, 0.22 * S, 0.3 * lungLenMm);
    // The diaphragm: lung stays 4 mm from the domes in-plane and 6 mm above them (the dome's section
    // 6 mm lower), so the stomach gas never touches the lung, in any direction.
    const guard = DIAPHRAGM_ABOVE_MM / lungLenMm;
    const liverGuard = dome(liverTopF - guard, 0.42 * S, 0.5 * lungLenMm);
    const stomachGuard = dome(stomachTopF - guard, 0.22 * S, 0.3 * lungLenMm);
    const stomachGas = stomachR > 0 && (f - stomachTopF) * lungLenMm < 25; // the gas bubble sits at the top
    for (let r = 0; r < rows; r++) {
      const y = (r + 0.5) * ps - cy; // + posterior
      for (let c = 0; c < columns; c++) {
        const x = (c + 0.5) * ps - cx; // + patient left
        const i = r * columns + c;
        let label: L = L.Outside;
        let hu: number = HU.air;
        const bu = x / (0.85 * S * who.body);
        const bvv = (y - 0.05 * S) / (0.62 * S * who.body);
        const rb = bu * bu + bvv * bvv;
        if (rb <= 1) {
          label = L.Body;
          hu = rb > 0.86 ? HU.fat : HU.muscle; // subcutaneous fat over the chest-wall muscles
          if (thorax && rb > 0.7 && rb < 0.78) {
            // Ribs: oblique bony bars around the chest wall, a few centimetres apart.
            const theta = Math.atan2(y, x);
            if (mod(theta * 2.2 + zMm / 22, 1) < 0.28) hu = HU.corticalBone;
          }
          // Vertebra (cancellous body, cortical rim) and the spinal canal behind it.
          const vy = y - 0.45 * S;
          const v2 = x * x + vy * vy;
          if (v2 < (0.09 * S) ** 2) hu = v2 > (0.075 * S) ** 2 ? HU.corticalBone : HU.cancellousBone;
          const cy2 = x * x + (y - 0.585 * S) ** 2;
          if (cy2 < (0.035 * S) ** 2) hu = HU.softTissue;
          if (thorax) {
            // Mediastinum: fat around the great vessels; descending aorta beside the spine.
            if ((x / (0.12 * S)) ** 2 + ((y + 0.12 * S) / (0.24 * S)) ** 2 < 1) hu = HU.fat;
            if ((x - 0.12 * S) ** 2 + (y - 0.3 * S) ** 2 < (0.055 * S) ** 2 && f > 0.12) hu = HU.blood;
            if (f > 0.12 && f < 0.45 && (x + 0.03 * S) ** 2 + (y + 0.1 * S) ** 2 < (0.06 * S) ** 2) hu = HU.blood;
          }
          if (hasTrachea) {
            const t2 = x * x + (y + 0.15 * S) ** 2;
            if (t2 < (0.06 * S) ** 2) hu = t2 < (0.05 * S) ** 2 ? HU.air : HU.softTissue;
          }
          let bronchus = 0; // 0 none, 1 wall, 2 lumen
          if (hasBronchi) {
            for (const side of [-1, 1]) {
              const bx = x - side * (0.02 * S + 0.1 * S * bt);
              const b2 = bx * bx + (y + 0.13 * S) ** 2;
              if (b2 < (0.045 * S) ** 2) bronchus = b2 < (0.033 * S) ** 2 ? 2 : 1;
            }
            if (bronchus) hu = bronchus === 2 ? HU.air : HU.softTissue;
          }
          const inLiver = liverR > 0 && (x + 0.22 * S) ** 2 + (y - 0.05 * S) ** 2 < liverR * liverR;
          const inStomach = stomachR > 0 && (x - 0.3 * S) ** 2 + (y + 0.05 * S) ** 2 < stomachR * stomachR;
          const underDiaphragm = inLiver || inStomach;
          if (inLiver) hu = HU.liver;
          if (inStomach) {
            // Gas in the fundus, inside a 5 mm wall; the diaphragm keeps it apart from the lung.
            const g = (x - 0.3 * S) ** 2 + (y + 0.05 * S) ** 2 < (stomachR - 5) ** 2;
            hu = stomachGas && g ? HU.air : HU.softTissue;
          }
          if (hasLung && !underDiaphragm) {
            const side = x < 0 ? -1 : 1;
            const du = x - side * 0.38 * S;
            const dy = y - lungCy;
            const rho = Math.sqrt((du / au) ** 2 + (dy / bv) ** 2);
            const hx = x - 0.08 * S, hy = y + 0.12 * S;
            const inHeart = heart && hx * hx + hy * hy < (0.24 * S * who.heart) ** 2;
            // A 4 mm diaphragm between lung and the domes below it.
            const nearDome =
              (liverGuard > 0 && Math.hypot(x + 0.22 * S, y - 0.05 * S) < liverGuard + DIAPHRAGM_MM) ||
              (stomachGuard > 0 && Math.hypot(x - 0.3 * S, y + 0.05 * S) < stomachGuard + DIAPHRAGM_MM);
            if (rho < 1 && !inHeart && !nearDome) {
              // Distance to the ellipse's edge to first order: (1 − ρ) / |∇ρ|, right at the poles and
              // the flanks alike, so subpleural bands have the same thickness all round.
              const gx = du / (au * au), gy = dy / (bv * bv);
              const grad = Math.sqrt(gx * gx + gy * gy) / Math.max(rho, 1e-6);
              const depth = grad > 0 ? (1 - rho) / grad : Math.min(au, bv);
              if (bronchus === 2) {
                label = L.Airway;
                hu = HU.air;
              } else if (bronchus === 1) {
                label = L.Vessel; // bronchial wall inside the lung: parenchyma, like a vessel
                hu = HU.softTissue;
              } else {
                label = L.Lung;
                hu = HU.lung;
                for (const v of vessels) {
                  if (v.side !== side) continue;
                  const a = v.angle + v.drift * f * 3;
                  const vx = du - v.p * au * Math.cos(a);
                  const vy = dy - v.p * bv * Math.sin(a);
                  // Vessels taper towards the periphery.
                  const rv = v.radiusMm * (1.2 - 0.6 * v.p);
                  if (vx * vx + vy * vy < rv * rv) {
                    label = L.Vessel;
                    hu = HU.vessel;
                  }
                }
                if (label === L.Lung && paint(pattern, x, y, zMm, zBlock, f, depth, reticDepth)) {
                  label = painted.label;
                  hu = painted.hu;
                }
              }
            }
          }
        }
        labels[i] = label;
        mean[i] = hu;
        white[i] = gauss();
      }
    }
    opts.onSliceLabels?.(k, labels);
    correlate(white, smooth, columns, rows);
    for (let i = 0; i < n; i++) {
      const label = labels[i]!;
      // Outside the body there is no object to scatter: air is air, with a little noise.
      const value = Math.round(mean[i]! + noise * (label === L.Outside ? 0.5 : 1) * CORRELATED_NOISE_GAIN * smooth[i]!);
      stored[i] = Math.max(-32768, Math.min(32767, value - intercept));
      if (label >= L.Lung) {
        lungVoxels++;
        perSlice[k]!.lung++;
        if (i % columns < columns / 2) sideVoxels.right++;
        else sideVoxels.left++;
        sumHu += value;
        if (value >= -600 && value <= -250) haa++;
        if (value < -950) laa++;
        if (label === L.Lung || label === L.Vessel) classCount.normal++;
        else if (label === L.GroundGlass) classCount.groundGlass++;
        else if (label === L.Reticulation) classCount.reticulation++;
        else if (label === L.Honeycombing) classCount.honeycombing++;
        else if (label === L.Emphysema) classCount.emphysema++;
        else if (label === L.Consolidation) classCount.consolidation++;
        if (label === L.Reticulation || label === L.Honeycombing) perSlice[k]!.fibrosis++;
      }
    }
    const instanceNumber = order[k]! + 1;
    const file = join(opts.dir, `IM${String(instanceNumber).padStart(5, '0')}.dcm`);
    const sopInstanceUid = derivedUid('sop', seriesInstanceUid, k);
    await writeFile(
      file,
      encodeSlice({
        rows, columns, ps, thickness, spacingZ, intercept, stored, instanceNumber, sopInstanceUid,
        studyInstanceUid, seriesInstanceUid, frameOfReferenceUid, studyDate, accession, patient, slices,
        position: [-cx + ps / 2, -cy + ps / 2, zTop - zMm],
      }),
    );
    files.push(file);
  }

  const pct = (v: number): number => (lungVoxels ? round2((100 * v) / lungVoxels) : 0);
  const lungIdx = perSlice.map((p, i) => (p.lung > 0 ? i : -1)).filter((i) => i >= 0);
  const first = lungIdx[0] ?? 0;
  const last = lungIdx[lungIdx.length - 1] ?? 0;
  const zoneAcc = [0, 1, 2].map(() => ({ lung: 0, fib: 0 }));
  for (let k = first; k <= last; k++) {
    const z = zoneOfSlice(k, first, last);
    zoneAcc[z]!.lung += perSlice[k]!.lung;
    zoneAcc[z]!.fib += perSlice[k]!.fibrosis;
  }
  const zp = (z: number): ZoneTruth => ({ fibrosisPercent: zoneAcc[z]!.lung ? round2((100 * zoneAcc[z]!.fib) / zoneAcc[z]!.lung) : 0 });
  const voxelMl = (ps * ps * spacingZ) / 1000;
  const groundTruth: PhantomGroundTruth = {
    schema: 'ildflow.phantom-truth/1',
    pattern,
    expectedCategory: EXPECTED[pattern],
    seed,
    size: { rows, columns, slices },
    pixelSpacingMm: ps,
    sliceThicknessMm: thickness,
    sliceSpacingMm: spacingZ,
    noiseHu: noise,
    lungVoxels,
    lungVolumeMl: round2(lungVoxels * voxelMl),
    lungs: { left: { volumeMl: round2(sideVoxels.left * voxelMl) }, right: { volumeMl: round2(sideVoxels.right * voxelMl) } },
    meanLungDensityHu: lungVoxels ? round2(sumHu / lungVoxels) : 0,
    haaPercent: pct(haa),
    laa950Percent: pct(laa),
    extents: {
      normal: pct(classCount.normal),
      groundGlass: pct(classCount.groundGlass),
      reticulation: pct(classCount.reticulation),
      honeycombing: pct(classCount.honeycombing),
      emphysema: pct(classCount.emphysema),
      consolidation: pct(classCount.consolidation),
    },
    zones: { upper: zp(0), middle: zp(1), lower: zp(2) },
    lungSlices: { first, last },
  };
  await writeFile(join(opts.dir, 'ground-truth.json'), JSON.stringify(groundTruth, null, 2) + '\n');
  return { files, groundTruth, studyInstanceUid, seriesInstanceUid };

  /**
   * The disease pattern at one lung voxel, placed as the 2018 guideline and the Fleischner glossary
   * describe it: returns its label and mean HU.
   * - uip: reticulation in the subpleural band of the lower half, deepening towards the bases, with
   *   honeycombing (clustered air cysts of 4–5 mm with walls, stacked in rows) at the pleura of the bases;
   * - probable_uip: the same reticulation without honeycombing;
   * - nsip: ground glass in the lower half with the immediate subpleural lung spared, and a few
   *   peribronchovascular consolidations (organising-pneumonia overlap) deep in the posterior bases;
   * - emphysema: centrilobular low-attenuation spheres, upper-zone predominant, sparing the periphery.
   */
  function paint(p: PhantomPattern, x: number, y: number, zMm: number, zBlock: number, f: number, depth: number, reticDepth: number): boolean {
    if ((p === 'uip' || p === 'probable_uip') && depth < reticDepth) {
      if (p === 'uip' && f > who.honeycombFromF && depth < who.honeycombMm) {
        // Honeycombing: rows of air cysts (polygonal, as packed cysts are) with dense walls one pixel
        // or a millimetre thick, staggered by half a cell every cell height.
        const off = (zBlock & 1) * cell * 0.5;
        const mx = mod(x + off, cell), my = mod(y + off, cell);
        return set(L.Honeycombing, mx < wall || my < wall ? HU.cystWall : HU.cyst);
      }
      const mx = mod(x, reticPeriod), my = mod(y, reticPeriod);
      return set(L.Reticulation, mx < reticLine || my < reticLine ? HU.reticLine : HU.reticGap);
    }
    if (p === 'nsip' && f > 0.45) {
      if (f > 0.6 && y > 0 && depth >= 8) {
        const i = Math.floor(x / consCell), j = Math.floor(y / consCell), kk = Math.floor(zMm / consCell);
        if (hash3(i, j, kk, seed + 7) < 0.6) {
          const rc = 7 + 4 * hash3(j, i, kk, seed + 11);
          const dx = x - (i + 0.5) * consCell, dy = y - (j + 0.5) * consCell, dz = zMm - (kk + 0.5) * consCell;
          if (dx * dx + dy * dy + dz * dz < rc * rc) return set(L.Consolidation, HU.consolidation);
        }
      }
      if (depth >= who.nsipFromMm && depth < who.nsipToMm) return set(L.GroundGlass, HU.groundGlass);
    }
    if (p === 'emphysema' && f < 0.5 && depth > 3) {
      const i = Math.floor(x / emphCell), j = Math.floor(y / emphCell), kk = Math.floor(zMm / emphCell);
      if (hash3(i, j, kk, seed) < who.emphysemaDensity) {
        const dx = x - (i + 0.5) * emphCell, dy = y - (j + 0.5) * emphCell, dz = zMm - (kk + 0.5) * emphCell;
        if (dx * dx + dy * dy + dz * dz < emphRadius * emphRadius) return set(L.Emphysema, HU.emphysema);
      }
    }
    return false;
  }
}

/** Separable [1 2 1]/4 smoothing of one slice of white noise (edges replicate). */
function correlate(src: Float32Array, dst: Float32Array, w: number, h: number): void {
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const l = src[o + (x > 0 ? x - 1 : x)]!, r = src[o + (x < w - 1 ? x + 1 : x)]!;
      dst[o + x] = 0.25 * l + 0.5 * src[o + x]! + 0.25 * r;
    }
  }
  for (let x = 0; x < w; x++) {
    let prev = dst[x]!;
    for (let y = 0; y < h; y++) {
      const o = y * w + x;
      const cur = dst[o]!;
      const next = y < h - 1 ? dst[o + w]! : cur;
      src[o] = 0.25 * prev + 0.5 * cur + 0.25 * next;
      prev = cur;
    }
  }
  dst.set(src);
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}
function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

type SliceSpec = {
  rows: number; columns: number; ps: number; thickness: number; spacingZ: number; intercept: number;
  stored: Int16Array; instanceNumber: number; sopInstanceUid: string; studyInstanceUid: string;
  seriesInstanceUid: string; frameOfReferenceUid: string; studyDate: string; accession: string; slices: number;
  patient: { id: string; name: string; birthDate: string; sex: string }; position: [number, number, number];
};

function encodeSlice(s: SliceSpec): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: CT_IMAGE_STORAGE,
    MediaStorageSOPInstanceUID: s.sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LE,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: 'ILDFLOW_PHANTOM',
  };
  const pixels = s.stored.slice().buffer; // own copy: dcmjs keeps a reference until write()
  const ds = {
    SpecificCharacterSet: 'ISO_IR 100',
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    SOPClassUID: CT_IMAGE_STORAGE,
    SOPInstanceUID: s.sopInstanceUid,
    StudyDate: s.studyDate,
    SeriesDate: s.studyDate,
    AcquisitionDate: s.studyDate,
    ContentDate: s.studyDate,
    StudyTime: '093000',
    SeriesTime: '093100',
    AccessionNumber: s.accession,
    Modality: 'CT',
    Manufacturer: 'ildflow phantom',
    ReferringPhysicianName: '',
    StudyDescription: 'CT CHEST WITHOUT CONTRAST',
    SeriesDescription: 'Synthetic chest CT (phantom)',
    PatientName: s.patient.name,
    PatientID: s.patient.id,
    PatientBirthDate: s.patient.birthDate,
    PatientSex: s.patient.sex,
    BodyPartExamined: 'CHEST',
    SliceThickness: s.thickness,
    SpacingBetweenSlices: s.spacingZ,
    KVP: 120,
    ConvolutionKernel: 'LUNG',
    PatientPosition: 'HFS',
    StudyInstanceUID: s.studyInstanceUid,
    SeriesInstanceUID: s.seriesInstanceUid,
    StudyID: '1',
    SeriesNumber: 2,
    InstanceNumber: s.instanceNumber,
    ImagePositionPatient: s.position,
    ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
    FrameOfReferenceUID: s.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    NumberOfSeriesRelatedInstances: s.slices,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: s.rows,
    Columns: s.columns,
    PixelSpacing: [s.ps, s.ps],
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: 1,
    RescaleIntercept: s.intercept,
    RescaleSlope: 1,
    RescaleType: 'HU',
    WindowCenter: -600,
    WindowWidth: 1500,
    PixelData: pixels,
    _vrMap: { PixelData: 'OW' },
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  return new Uint8Array(dict.write() as ArrayBuffer);
}
