/**
 * Assembles one series' slices into a Hounsfield-unit volume (docs/design.md §5, reference engine step 1).
 * Slices are ordered by their position along the slice normal (row × column direction cosines,
 * PS3.3 C.7.6.2.1.1), never by InstanceNumber, which scanners and PACS renumber freely. Each file is read
 * once for its header and once for exactly its pixel bytes, straight into one preallocated Int16Array.
 */
import { InvalidDicom } from '../errors.js';
import { readSliceHu, scanSeriesDir, type InstanceHeader, type SkippedFile, type Vec3 } from '../dicom/read-instance.js';

/** What requirement checks and the engine result's `input` need to know about a series. */
export type SeriesSummary = Readonly<{
  studyInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  sliceCount: number;
  sliceThicknessMm: number;
  pixelSpacingMm: readonly [number, number];
  /** Median distance between adjacent slice centres along the normal. */
  spacingBetweenSlicesMm: number;
  /** Largest |spacing − median| / median; 0 for a perfectly regular series. */
  spacingVariation: number;
  /** Extent along the normal from the first slice's outer face to the last's. */
  coverageMm: number;
  rows: number;
  columns: number;
  convolutionKernel?: string;
}>;

export type Volume = {
  /** Columns, rows and slices; voxel (x, y, z) is at hu[(z * height + y) * width + x]. */
  width: number;
  height: number;
  depth: number;
  /** HU, clamped to int16; slice 0 is the most cranial. */
  hu: Int16Array;
  pixelSpacingMm: readonly [number, number];
  sliceSpacingMm: number;
  sliceThicknessMm: number;
  positions: Vec3[];
  sopInstanceUids: string[];
  /** Per slice, like `sopInstanceUids`: what a derived object (the SEG) references (PS3.3 C.12.2). */
  sopClassUids: string[];
  frameOfReferenceUid: string;
  /** ImageOrientationPatient, the same on every slice (checkSeriesConsistency). */
  orientation: InstanceHeader['imageOrientationPatient'];
  instanceNumbers: (number | null)[];
  summary: SeriesSummary;
  /** Non-fatal findings (spacing gaps, skipped files) for the result's quality flags. */
  warnings: string[];
};

/** Direction cosines may differ by rounding in the last printed digits between slices. */
const ORIENTATION_TOLERANCE = 1e-3;
/** Pixel spacing is printed as DS; allow rounding differences only. */
const PIXEL_SPACING_TOLERANCE_MM = 1e-3;
/** Two slices closer than this along the normal are the same position (duplicates or a re-sent series). */
const DUPLICATE_POSITION_MM = 0.01;
/** A step this many times the median spacing is reported as a gap (a missing slice doubles the step). */
const GAP_FACTOR = 1.5;

function sliceNormal(iop: InstanceHeader['imageOrientationPatient']): Vec3 {
  const [rx, ry, rz, cx, cy, cz] = iop;
  let n: [number, number, number] = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
  // Point the normal towards the head (LPS +z) so index 0 is cranial whatever the acquisition direction.
  if (n[2] < 0 || (n[2] === 0 && n[1] < 0)) n = [-n[0], -n[1], -n[2]];
  return n;
}

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** Reasons why these headers cannot form one volume (empty when they can). */
export function checkSeriesConsistency(headers: readonly InstanceHeader[]): string[] {
  const reasons: string[] = [];
  const first = headers[0];
  if (!first) return ['the series has no images'];
  const distinct = <T>(pick: (h: InstanceHeader) => T): number => new Set(headers.map(pick)).size;
  if (distinct((h) => h.seriesInstanceUid) > 1) reasons.push(`the folder holds ${distinct((h) => h.seriesInstanceUid)} series, not one`);
  if (distinct((h) => h.frameOfReferenceUid) > 1) reasons.push('slices belong to different frames of reference');
  if (distinct((h) => `${h.rows}x${h.columns}`) > 1) reasons.push('slices have different sizes (rows × columns)');
  if (distinct((h) => h.modality) > 1) reasons.push('slices have different modalities');
  if (headers.some((h) => h.numberOfFrames !== 1)) reasons.push('multi-frame images are not supported yet');
  const [rx, ry, rz, cx, cy, cz] = first.imageOrientationPatient;
  const orthonormal =
    Math.abs(rx * rx + ry * ry + rz * rz - 1) < 0.01 && Math.abs(cx * cx + cy * cy + cz * cz - 1) < 0.01 && Math.abs(rx * cx + ry * cy + rz * cz) < 0.01;
  if (!orthonormal) reasons.push('ImageOrientationPatient is not two orthogonal unit vectors');
  if (headers.some((h) => h.imageOrientationPatient.some((v, i) => Math.abs(v - first.imageOrientationPatient[i]!) > ORIENTATION_TOLERANCE))) {
    reasons.push('slices have different orientations');
  }
  if (headers.some((h) => h.pixelSpacing.some((v, i) => Math.abs(v - first.pixelSpacing[i]!) > PIXEL_SPACING_TOLERANCE_MM))) {
    reasons.push('slices have different pixel spacings');
  }
  if (reasons.length === 0 && headers.length > 1) {
    const n = sliceNormal(first.imageOrientationPatient);
    const d = headers.map((h) => dot(h.imagePositionPatient, n)).sort((a, b) => a - b);
    let dups = 0;
    for (let i = 1; i < d.length; i++) if (d[i]! - d[i - 1]! < DUPLICATE_POSITION_MM) dups++;
    if (dups > 0) reasons.push(`${dups} slice${dups > 1 ? 's share' : ' shares'} a position with another slice (duplicates)`);
  }
  return reasons;
}

type Ordered = { order: number[]; along: number[]; normal: Vec3 };

/**
 * The order of the slices along the head-pointing normal, cranial first: `order[z]` is the index in
 * `headers` of volume slice z. The engine's slice indexes (key images) and the review viewer's both use it.
 */
export function orderAlongNormal(headers: readonly InstanceHeader[]): Ordered {
  const normal = sliceNormal(headers[0]!.imageOrientationPatient);
  const proj = headers.map((h) => dot(h.imagePositionPatient, normal));
  // Descending along a head-pointing normal: cranial first. Ties (refused elsewhere) keep file order.
  const order = headers.map((_, i) => i).sort((a, b) => proj[b]! - proj[a]! || a - b);
  return { order, along: order.map((i) => proj[i]!), normal };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Summarises a series for requirement checks (docs/design.md §5: thickness, coverage, slices, modality). */
export function summarizeSeries(headers: readonly InstanceHeader[]): SeriesSummary {
  const first = headers[0];
  if (!first) throw new InvalidDicom('the series has no images');
  const { along } = orderAlongNormal(headers);
  const steps: number[] = [];
  for (let i = 1; i < along.length; i++) steps.push(along[i - 1]! - along[i]!);
  const spacing = median(steps);
  const thicknesses = headers.map((h) => h.sliceThickness).filter((t): t is number => t !== undefined && t > 0);
  const thickness = thicknesses.length ? median(thicknesses) : spacing || first.spacingBetweenSlices || 0;
  const variation = spacing > 0 ? Math.max(0, ...steps.map((s) => Math.abs(s - spacing) / spacing)) : 0;
  const span = along.length > 1 ? along[0]! - along[along.length - 1]! : 0;
  const kernels = [...new Set(headers.map((h) => h.convolutionKernel).filter((k): k is string => !!k))];
  return {
    studyInstanceUid: first.studyInstanceUid,
    seriesInstanceUid: first.seriesInstanceUid,
    modality: first.modality,
    sliceCount: headers.length,
    sliceThicknessMm: thickness,
    pixelSpacingMm: first.pixelSpacing,
    spacingBetweenSlicesMm: spacing || thickness,
    spacingVariation: round(variation, 4),
    coverageMm: round(span + thickness, 3),
    rows: first.rows,
    columns: first.columns,
    ...(kernels.length ? { convolutionKernel: kernels.join('\\') } : {}),
  };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Reads every DICOM image in `dir` (one series) into a `Volume`.
 * @throws InvalidDicom when the folder has no usable images or they do not form one regular volume.
 */
export async function assembleVolume(dir: string): Promise<Volume> {
  const { instances, skipped } = await scanSeriesDir(dir);
  if (instances.length === 0) {
    throw new InvalidDicom(`the folder holds no readable DICOM images${skippedSuffix(skipped)}`);
  }
  const headers = instances.map((i) => i.header);
  const reasons = checkSeriesConsistency(headers);
  if (reasons.length) throw new InvalidDicom(`the images do not form one volume: ${reasons.join('; ')}`);
  const summary = summarizeSeries(headers);
  const { order, along } = orderAlongNormal(headers);
  const first = headers[0]!;
  const width = first.columns;
  const height = first.rows;
  const depth = headers.length;
  const sliceVoxels = width * height;
  // On shared memory: the reference engine's threads read the volume in place (no copy per thread).
  const hu = new Int16Array(new SharedArrayBuffer(sliceVoxels * depth * 2));
  const scratch = new Uint8Array(sliceVoxels * 2);
  const warnings: string[] = [];
  if (skipped.length) warnings.push(`${skipped.length} non-image file(s) in the series folder were skipped`);
  for (let z = 0; z < depth; z++) {
    const idx = order[z]!;
    readSliceHu(instances[idx]!.path, headers[idx]!, hu, z * sliceVoxels, scratch);
  }
  const gaps: string[] = [];
  for (let z = 1; z < depth; z++) {
    const step = along[z - 1]! - along[z]!;
    if (step > GAP_FACTOR * summary.spacingBetweenSlicesMm) gaps.push(`${round(step, 2)} mm after slice ${z}`);
  }
  if (gaps.length) warnings.push(`gaps between slices: ${gaps.slice(0, 5).join(', ')}${gaps.length > 5 ? ', …' : ''}`);
  return {
    width,
    height,
    depth,
    hu,
    pixelSpacingMm: first.pixelSpacing,
    sliceSpacingMm: summary.spacingBetweenSlicesMm,
    sliceThicknessMm: summary.sliceThicknessMm,
    positions: order.map((i) => headers[i]!.imagePositionPatient),
    sopInstanceUids: order.map((i) => headers[i]!.sopInstanceUid),
    sopClassUids: order.map((i) => headers[i]!.sopClassUid),
    frameOfReferenceUid: first.frameOfReferenceUid,
    orientation: first.imageOrientationPatient,
    instanceNumbers: order.map((i) => headers[i]!.instanceNumber ?? null),
    summary,
    warnings,
  };
}

function skippedSuffix(skipped: readonly SkippedFile[]): string {
  if (skipped.length === 0) return '';
  const shown = skipped.slice(0, 3).map((s) => `${s.file}: ${s.reason}`);
  return ` (${skipped.length} file(s) skipped — ${shown.join('; ')}${skipped.length > 3 ? '; …' : ''})`;
}
