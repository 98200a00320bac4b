/**
 * A synthetic chest CT with known truth, written as real DICOM Part 10 files (CT Image Storage, Explicit VR
 * Little Endian) via dcmjs. Every voxel gets a label (outside, lung, vessel, ground glass, reticulation,
 * honeycombing, emphysema) and an HU value drawn from the label's range (DESIGN.md §5 "The reference
 * engine"); `ground-truth.json` is counted from those labels and values, never guessed. The series is
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
  /** Image noise standard deviation in HU. */
  noiseHu?: number;
};

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
  lungVoxels: number;
  lungVolumeMl: number;
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

/** Voxel labels of the truth map. Vessels are lung but count as normal parenchyma in extents. */
const enum L {
  Outside = 0,
  Body = 1,
  Lung = 2,
  Vessel = 3,
  GroundGlass = 4,
  Reticulation = 5,
  Honeycombing = 6,
  Emphysema = 7,
}

// Hounsfield values (mean, sd on top of image noise), after typical adult chest CT (DESIGN.md §5 ranges).
const HU = {
  air: -1000,
  fat: -100,
  softTissue: 40,
  bone: 700,
  lung: -850,
  vessel: 40,
  groundGlass: -620,
  reticLine: -300, // fine lines, partial-volumed: inside the HAA range
  reticGap: -780,
  cyst: -990,
  cystWall: -100,
  emphysema: -985,
} as const;

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const IMPLEMENTATION_CLASS_UID = '2.25.208776149925624113455826452318826429937';

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
  const noise = opts.noiseHu ?? 20;
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

  const rand = mulberry32(seed);
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

  // Geometry (mm). S is half the smaller field of view; anatomy is laid out in fractions of it.
  const S = (Math.min(rows, columns) * ps) / 2;
  const cx = (columns * ps) / 2;
  const cy = (rows * ps) / 2;
  const zTop = (slices - 1) * spacingZ; // patient z of slice 0 (cranial); LPS +z is superior
  const lungStart = Math.round(slices * 0.04); // apex just below the first slices (neck, trachea)
  const lungEnd = Math.round(slices * 0.96);
  const carina = lungStart + Math.round((lungEnd - lungStart) * 0.3);

  const vessels = Array.from({ length: 12 }, (_, i) => ({
    side: i < 6 ? -1 : 1,
    p: 0.25 + 0.4 * rand(),
    angle: 2 * Math.PI * rand(),
    drift: (rand() - 0.5) * 0.8,
    radiusMm: 1.6 + 1.2 * rand(),
  }));

  const n = rows * columns;
  const stored = new Int16Array(n);
  const labels = new Uint8Array(n);
  const perSlice = Array.from({ length: slices }, () => ({ lung: 0, fibrosis: 0 }));
  const classCount = { normal: 0, groundGlass: 0, reticulation: 0, honeycombing: 0, emphysema: 0 };
  let lungVoxels = 0;
  let sumHu = 0;
  let haa = 0;
  let laa = 0;
  const files: string[] = [];

  // Texture scales respect the pixel grid so the painted pattern is resolvable at any spacing.
  const reticPeriod = Math.max(4, 3 * ps);
  const reticLine = Math.max(1, ps);
  const cell = Math.max(5, 4 * ps);
  const wall = Math.max(1.2, ps);
  const emphCell = Math.max(8, 4 * ps);
  const emphRadius = emphCell * 0.38;

  for (let k = 0; k < slices; k++) {
    const zMm = k * spacingZ; // depth below slice 0, mm
    const f = lungEnd > lungStart ? (k - lungStart) / (lungEnd - lungStart) : -1; // 0 apex … 1 base
    const hasLung = f >= 0 && f <= 1;
    // Lungs grow from a small apex to full size, then shrink towards the diaphragm domes.
    let s = hasLung ? 0.3 + 0.7 * Math.sqrt(Math.min(1, f / 0.55)) : 0;
    if (f > 0.85) s *= 1 - 0.5 * ((f - 0.85) / 0.15);
    const au = 0.27 * S * s;
    const bv = 0.42 * S * s;
    const heart = f >= 0.45 && f <= 0.97;
    const hasTrachea = k <= carina;
    const reticDepth = f > 0.5 ? 14 * Math.min(1, (f - 0.5) / 0.25) : 0;
    const zBlock = Math.floor(zMm / cell);
    for (let r = 0; r < rows; r++) {
      const y = (r + 0.5) * ps - cy; // + posterior
      for (let c = 0; c < columns; c++) {
        const x = (c + 0.5) * ps - cx; // + patient left
        const i = r * columns + c;
        let label: L = L.Outside;
        let hu: number = HU.air;
        const bu = x / (0.85 * S);
        const bvv = (y - 0.05 * S) / (0.62 * S);
        const rb = bu * bu + bvv * bvv;
        if (rb <= 1) {
          label = L.Body;
          hu = rb > 0.86 ? HU.fat : HU.softTissue;
          const sx = x, sy = y - 0.45 * S;
          if (sx * sx + sy * sy < (0.09 * S) ** 2) hu = HU.bone;
          if (hasTrachea) {
            const ty = y + 0.15 * S;
            if (x * x + ty * ty < (0.06 * S) ** 2) hu = HU.air;
          }
          if (hasLung) {
            const side = x < 0 ? -1 : 1;
            const du = x - side * 0.38 * S;
            const rho = Math.sqrt((du / au) ** 2 + (y / bv) ** 2);
            const hx = x - 0.08 * S, hy = y + 0.12 * S;
            const inHeart = heart && hx * hx + hy * hy < (0.24 * S) ** 2;
            if (rho < 1 && !inHeart) {
              const depth = (1 - rho) * Math.min(au, bv);
              label = L.Lung;
              hu = HU.lung;
              for (const v of vessels) {
                if (v.side !== side) continue;
                const a = v.angle + v.drift * f * 3;
                const vx = du - v.p * au * Math.cos(a);
                const vy = y - v.p * bv * Math.sin(a);
                if (vx * vx + vy * vy < v.radiusMm * v.radiusMm) {
                  label = L.Vessel;
                  hu = HU.vessel;
                }
              }
              if (label === L.Lung) [label, hu] = paint(pattern, x, y, zMm, zBlock, f, depth, reticDepth, label, hu);
            }
          }
        }
        labels[i] = label;
        const value = Math.round(hu + noise * gauss());
        stored[i] = Math.max(-32768, Math.min(32767, value - intercept));
        if (label >= L.Lung) {
          lungVoxels++;
          perSlice[k]!.lung++;
          sumHu += value;
          if (value >= -600 && value <= -250) haa++;
          if (value < -950) laa++;
          if (label === L.Lung || label === L.Vessel) classCount.normal++;
          else if (label === L.GroundGlass) classCount.groundGlass++;
          else if (label === L.Reticulation) classCount.reticulation++;
          else if (label === L.Honeycombing) classCount.honeycombing++;
          else if (label === L.Emphysema) classCount.emphysema++;
          if (label === L.Reticulation || label === L.Honeycombing) perSlice[k]!.fibrosis++;
        }
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

  void labels; // kept per slice only; the truth is the counts below
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
  const groundTruth: PhantomGroundTruth = {
    schema: 'ildflow.phantom-truth/1',
    pattern,
    expectedCategory: EXPECTED[pattern],
    seed,
    size: { rows, columns, slices },
    pixelSpacingMm: ps,
    sliceThicknessMm: thickness,
    sliceSpacingMm: spacingZ,
    lungVoxels,
    lungVolumeMl: round2((lungVoxels * ps * ps * spacingZ) / 1000),
    meanLungDensityHu: lungVoxels ? round2(sumHu / lungVoxels) : 0,
    haaPercent: pct(haa),
    laa950Percent: pct(laa),
    extents: {
      normal: pct(classCount.normal),
      groundGlass: pct(classCount.groundGlass),
      reticulation: pct(classCount.reticulation),
      honeycombing: pct(classCount.honeycombing),
      emphysema: pct(classCount.emphysema),
      consolidation: 0,
    },
    zones: { upper: zp(0), middle: zp(1), lower: zp(2) },
    lungSlices: { first, last },
  };
  await writeFile(join(opts.dir, 'ground-truth.json'), JSON.stringify(groundTruth, null, 2) + '\n');
  return { files, groundTruth, studyInstanceUid, seriesInstanceUid };

  /** The disease pattern at one lung voxel: returns its label and mean HU. */
  function paint(p: PhantomPattern, x: number, y: number, zMm: number, zBlock: number, f: number, depth: number, reticDepth: number, label: L, hu: number): [L, number] {
    if ((p === 'uip' || p === 'probable_uip') && depth < reticDepth) {
      if (p === 'uip' && f > 0.72 && depth < 7) {
        // Honeycombing: stacked square cysts with dense walls, staggered every cell height.
        const off = (zBlock & 1) * cell * 0.5;
        const mx = mod(x + off, cell), my = mod(y + off, cell);
        const isWall = mx < wall || my < wall;
        return [L.Honeycombing, isWall ? HU.cystWall : HU.cyst];
      }
      const mx = mod(x, reticPeriod), my = mod(y, reticPeriod);
      return [L.Reticulation, mx < reticLine || my < reticLine ? HU.reticLine : HU.reticGap];
    }
    if (p === 'nsip' && f > 0.45 && depth >= 5 && depth < 25) return [L.GroundGlass, HU.groundGlass];
    if (p === 'emphysema' && f < 0.5 && depth > 3) {
      const i = Math.floor(x / emphCell), j = Math.floor(y / emphCell), kk = Math.floor(zMm / emphCell);
      if (hash3(i, j, kk, seed) < 0.45) {
        const dx = x - (i + 0.5) * emphCell, dy = y - (j + 0.5) * emphCell, dz = zMm - (kk + 0.5) * emphCell;
        if (dx * dx + dy * dy + dz * dz < emphRadius * emphRadius) return [L.Emphysema, HU.emphysema];
      }
    }
    return [label, hu];
  }
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
