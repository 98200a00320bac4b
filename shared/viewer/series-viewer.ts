/**
 * The review viewer's reads (docs/review.md "The viewer"): the analysed series' slices as HU and the engine's
 * label map as one class value per pixel, for one slice at a time. Each slice is read from its own file
 * (only its pixel bytes) and each label slice from only the SEG frames on it (read-seg.ts reads a frame at
 * its bit offset), so no request loads the whole series. The series index (headers in the engine's order),
 * the label map's index with its per-slice class counts, and decoded slices are kept in one LRU bounded by
 * bytes; concurrent first reads of a case share one indexing.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { readSliceHu, scanSeriesDir, type InstanceHeader, type Vec3 } from '../dicom/read-instance.js';
import { readSegHeader, type SegHeader } from '../dicom/seg/read-seg.js';
import { LABEL_CLASSES } from '../engines/label-classes.js';
import { InvalidDicom } from '../errors.js';
import { checkSeriesConsistency, orderAlongNormal, summarizeSeries } from '../volume/assemble-volume.js';
import { createByteLru } from './byte-lru.js';
import { countSetBits, framesBySlice, paintPackedFrame, sliceClassCounts, type SliceFrame } from './slice-class-counts.js';

export type SeriesIndex = Readonly<{
  rows: number;
  columns: number;
  /** PS3.3 C.7.6.2.1.1: [between rows, between columns], mm. */
  pixelSpacingMm: readonly [number, number];
  sliceThicknessMm: number;
  sliceSpacingMm: number;
  /** Cranial first: slice z is the engine's slice index z (orderAlongNormal). */
  positions: readonly Vec3[];
  sopInstanceUids: readonly string[];
  files: readonly Readonly<{ path: string; header: InstanceHeader }>[];
}>;

export type LabelMapIndex = Readonly<{
  path: string;
  header: SegHeader;
  bySlice: readonly (readonly SliceFrame[])[];
  /** `classCounts[z][k]`: voxels of LABEL_CLASSES[k] on slice z. */
  classCounts: readonly (readonly number[])[];
}>;

/** What the viewer is pointed at: a cache key that changes when the series does (a new retrieval), the spool, the map. */
export type ViewerSource = Readonly<{
  key: string;
  seriesDir: string;
  /** The stored SEG and the vocabulary key of each of its segment numbers (Case.labelMap). */
  labelMap?: Readonly<{ path: string; segments: readonly Readonly<{ number: number; key: string }>[] }>;
}>;

/** Reads every header of the spooled series once and orders the slices as the engine did. */
export async function indexSeries(dir: string): Promise<SeriesIndex> {
  const { instances } = await scanSeriesDir(dir);
  const headers = instances.map((i) => i.header);
  const reasons = checkSeriesConsistency(headers);
  if (reasons.length) throw new InvalidDicom(`the spooled images do not form one volume: ${reasons.join('; ')}`);
  const summary = summarizeSeries(headers);
  const { order } = orderAlongNormal(headers);
  const files = order.map((i) => instances[i]!);
  return {
    rows: summary.rows,
    columns: summary.columns,
    pixelSpacingMm: summary.pixelSpacingMm,
    sliceThicknessMm: summary.sliceThicknessMm,
    sliceSpacingMm: summary.spacingBetweenSlicesMm,
    positions: files.map((f) => f.header.imagePositionPatient),
    sopInstanceUids: files.map((f) => f.header.sopInstanceUid),
    files,
  };
}

/** The vocabulary value (LABEL_CLASSES segment number) of each of the SEG's own segment numbers. */
function vocabularyValues(segments: readonly Readonly<{ number: number; key: string }>[]): Map<number, number> {
  const valueOf = new Map(LABEL_CLASSES.map((c) => [c.key as string, c.segmentNumber]));
  return new Map(segments.flatMap((s) => (valueOf.has(s.key) ? [[s.number, valueOf.get(s.key)!] as const] : [])));
}

/**
 * Reads frame `frame`'s packed bits (frames follow each other bit by bit, PS3.5 §8.1.1) into `buf`, which
 * holds one frame and a byte; returns the bit of `buf` where the frame starts.
 */
async function readPackedFrame(fh: FileHandle, header: SegHeader, frame: number, buf: Buffer): Promise<number> {
  const n = header.rows * header.columns;
  const first = Math.floor((frame * n) / 8);
  await fh.read(buf, 0, Math.ceil(((frame + 1) * n) / 8) - first, header.pixelDataOffset + first);
  return frame * n - first * 8;
}

/** Lines the SEG's frames up with the slices and counts each class per slice, reading each frame's bits once. */
export async function indexLabelMap(source: NonNullable<ViewerSource['labelMap']>, series: SeriesIndex): Promise<LabelMapIndex> {
  const header = await readSegHeader(source.path);
  if (header.rows !== series.rows || header.columns !== series.columns)
    throw new InvalidDicom(`the label map is ${header.rows}×${header.columns}, the series ${series.rows}×${series.columns}`);
  const bySlice = framesBySlice(header.frames, series, vocabularyValues(source.segments));
  const n = header.rows * header.columns;
  const frameVoxels: number[] = [];
  const fh = await open(source.path, 'r');
  try {
    const buf = Buffer.alloc(Math.ceil(n / 8) + 1);
    for (let f = 0; f < header.numberOfFrames; f++) frameVoxels.push(countSetBits(buf, await readPackedFrame(fh, header, f, buf), n));
  } finally {
    await fh.close();
  }
  return { path: source.path, header, bySlice, classCounts: sliceClassCounts(bySlice, frameVoxels, LABEL_CLASSES.map((c) => c.segmentNumber)) };
}

/** Slice z as HU (PS3.3 C.11.1.1.2 rescale), from its own file. */
export function readSlicePixels(series: SeriesIndex, z: number): Int16Array {
  const f = series.files[z]!;
  const hu = new Int16Array(series.rows * series.columns);
  readSliceHu(f.path, f.header, hu, 0);
  return hu;
}

/**
 * Slice z's class values (LABEL_CLASSES segment numbers; 0 = no class), from the SEG frames on it only: each
 * frame's packed bits read at their offset (PS3.5 §8.1.1) through one open file.
 */
export async function readSliceLabels(map: LabelMapIndex, z: number): Promise<Uint8Array> {
  const n = map.header.rows * map.header.columns;
  const labels = new Uint8Array(n);
  const frames = map.bySlice[z] ?? [];
  if (!frames.length) return labels;
  const fh = await open(map.path, 'r');
  try {
    const buf = Buffer.alloc(Math.ceil(n / 8) + 1);
    for (const f of frames) paintPackedFrame(labels, buf, await readPackedFrame(fh, map.header, f.frame, buf), f.value);
  } finally {
    await fh.close();
  }
  return labels;
}

export type Viewer = Readonly<{ series: SeriesIndex; labelMap?: LabelMapIndex }>;

/** A header is a few hundred bytes of fields; count generously so that many indexes cannot crowd out slices. */
const INDEX_BYTES_PER_SLICE = 4096;

export type SeriesViewerCache = ReturnType<typeof createSeriesViewerCache>;

export function createSeriesViewerCache(maxBytes: number) {
  const lru = createByteLru<Viewer | Int16Array | Uint8Array>(maxBytes);
  const indexing = new Map<string, Promise<Viewer>>();

  async function viewer(src: ViewerSource): Promise<Viewer> {
    const key = `${src.key}|index`;
    const held = lru.get(key) as Viewer | undefined;
    if (held) return held;
    let p = indexing.get(key);
    if (!p) {
      p = (async () => {
        const series = await indexSeries(src.seriesDir);
        const labelMap = src.labelMap ? await indexLabelMap(src.labelMap, series) : undefined;
        const v: Viewer = { series, ...(labelMap ? { labelMap } : {}) };
        lru.set(key, v, series.files.length * INDEX_BYTES_PER_SLICE * (labelMap ? 2 : 1));
        return v;
      })().finally(() => indexing.delete(key));
      indexing.set(key, p);
    }
    return p;
  }

  return {
    viewer,
    async pixels(src: ViewerSource, z: number): Promise<Int16Array> {
      const key = `${src.key}|hu|${z}`;
      const held = lru.get(key) as Int16Array | undefined;
      if (held) return held;
      const hu = readSlicePixels((await viewer(src)).series, z);
      lru.set(key, hu, hu.byteLength);
      return hu;
    },
    async labels(src: ViewerSource, z: number): Promise<Uint8Array | undefined> {
      const v = await viewer(src);
      if (!v.labelMap) return undefined;
      const key = `${src.key}|labels|${z}`;
      const held = lru.get(key) as Uint8Array | undefined;
      if (held) return held;
      const labels = await readSliceLabels(v.labelMap, z);
      lru.set(key, labels, labels.byteLength);
      return labels;
    },
    bytes: () => lru.bytes(),
  };
}
