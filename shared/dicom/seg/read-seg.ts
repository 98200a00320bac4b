/**
 * Reads a DICOM Segmentation (PS3.3 A.51) an engine returned: its header as typed values (what the geometry
 * check and the overlay need), and single frames unpacked from its 1-bit Pixel Data (PS3.5 §8.1.1). Only
 * BINARY segmentations in an uncompressed transfer syntax whose Pixel Data is the last element are read;
 * anything else is refused with the reason (InvalidDicom), so the map is dropped rather than misread.
 * The pixel data is never read whole: a frame is read at its bit offset.
 */
import { open, stat } from 'node:fs/promises';
import dcmjs from 'dcmjs';
import { InvalidDicom } from '../../errors.js';
import type { Vec3 } from '../read-instance.js';

/** The header of a large SEG (a few hundred bytes per frame) stays far below this. */
export const MAX_SEG_HEADER_BYTES = 16 * 1024 * 1024;
const UNCOMPRESSED = new Set(['1.2.840.10008.1.2.1', '1.2.840.10008.1.2']);

export type SegCode = Readonly<{ value: string; scheme: string; meaning: string }>;
export type SegSegment = Readonly<{ number: number; label: string; category?: SegCode; type?: SegCode }>;
export type SegFrame = Readonly<{ segment: number; position?: Vec3; orientation?: readonly number[]; sourceSopInstanceUids: readonly string[] }>;

export type SegHeader = Readonly<{
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
  frameOfReferenceUid?: string;
  segmentationType: string;
  rows: number;
  columns: number;
  bitsAllocated: number;
  numberOfFrames: number;
  segments: readonly SegSegment[];
  frames: readonly SegFrame[];
  /** C.12.2 Common Instance Reference: series UID → referenced SOP Instance UIDs. */
  referencedSeries: readonly Readonly<{ seriesInstanceUid: string; sopInstanceUids: readonly string[] }>[];
  pixelDataOffset: number;
}>;

type Ds = Record<string, unknown>;
const items = (v: unknown): Ds[] => (Array.isArray(v) ? (v as Ds[]) : v && typeof v === 'object' ? [v as Ds] : []);
const first = (v: unknown): Ds | undefined => items(v)[0];
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v.trim() : Array.isArray(v) && typeof v[0] === 'string' ? String(v[0]).trim() : undefined);
const num = (v: unknown): number | undefined => {
  const x = Array.isArray(v) ? v[0] : v;
  const n = typeof x === 'number' ? x : typeof x === 'string' ? Number(x) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const nums = (v: unknown): number[] | undefined => {
  const a = (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(Number);
  return a.length && a.every(Number.isFinite) ? a : undefined;
};
const codeOf = (v: unknown): SegCode | undefined => {
  const c = first(v);
  const value = str(c?.CodeValue) ?? str(c?.LongCodeValue);
  return c && value ? { value, scheme: str(c.CodingSchemeDesignator) ?? '', meaning: str(c.CodeMeaning) ?? '' } : undefined;
};

/** Bytes of the packed frames (PS3.5 §8.1.1: frames back to back), before the even-length padding. */
export const packedBytes = (frames: number, rows: number, columns: number): number => Math.ceil((frames * rows * columns) / 8);

/** @throws InvalidDicom naming what makes the file unusable as a label map. */
export async function readSegHeader(path: string): Promise<SegHeader> {
  const size = (await stat(path)).size;
  const fh = await open(path, 'r');
  let probe: Buffer;
  try {
    probe = Buffer.alloc(Math.min(size, MAX_SEG_HEADER_BYTES));
    await fh.read(probe, 0, probe.length, 0);
  } finally {
    await fh.close();
  }
  let meta: Ds, ds: Ds;
  try {
    const dict = dcmjs.data.DicomMessage.readFile(probe.buffer.slice(probe.byteOffset, probe.byteOffset + probe.byteLength), { untilTag: '7FE00010' });
    meta = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.meta) as Ds;
    ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict) as Ds;
  } catch (err) {
    const why = probe.length < size ? `its header is longer than ${MAX_SEG_HEADER_BYTES / 1024 / 1024} MiB or damaged` : 'it cannot be parsed';
    throw new InvalidDicom(`the label map is not a readable DICOM file: ${why} (${err instanceof Error ? err.message.slice(0, 120) : String(err)})`);
  }
  const transferSyntaxUid = str(meta.TransferSyntaxUID) ?? '';
  if (!UNCOMPRESSED.has(transferSyntaxUid)) throw new InvalidDicom(`the label map's transfer syntax ${transferSyntaxUid || '(none)'} is not Explicit or Implicit VR Little Endian`);
  const shared = first(ds.SharedFunctionalGroupsSequence);
  const sharedOrientation = nums(first(shared?.PlaneOrientationSequence)?.ImageOrientationPatient);
  const frames: SegFrame[] = items(ds.PerFrameFunctionalGroupsSequence).map((f) => {
    const pos = nums(first(f.PlanePositionSequence)?.ImagePositionPatient);
    const orientation = nums(first(f.PlaneOrientationSequence)?.ImageOrientationPatient) ?? sharedOrientation;
    const segment = num(first(f.SegmentIdentificationSequence)?.ReferencedSegmentNumber ?? first(shared?.SegmentIdentificationSequence)?.ReferencedSegmentNumber) ?? 0;
    const sources = items(f.DerivationImageSequence).flatMap((d) => items(d.SourceImageSequence)).map((s) => str(s.ReferencedSOPInstanceUID)).filter((u): u is string => !!u);
    return { segment, ...(pos?.length === 3 ? { position: [pos[0]!, pos[1]!, pos[2]!] as const } : {}), ...(orientation ? { orientation } : {}), sourceSopInstanceUids: sources };
  });
  const rows = num(ds.Rows) ?? 0, columns = num(ds.Columns) ?? 0, numberOfFrames = num(ds.NumberOfFrames) ?? 0;
  const header = {
    sopClassUid: str(ds.SOPClassUID) ?? '',
    sopInstanceUid: str(ds.SOPInstanceUID) ?? '',
    studyInstanceUid: str(ds.StudyInstanceUID) ?? '',
    seriesInstanceUid: str(ds.SeriesInstanceUID) ?? '',
    transferSyntaxUid,
    ...(str(ds.FrameOfReferenceUID) ? { frameOfReferenceUid: str(ds.FrameOfReferenceUID) } : {}),
    segmentationType: str(ds.SegmentationType) ?? '',
    rows,
    columns,
    bitsAllocated: num(ds.BitsAllocated) ?? 0,
    numberOfFrames,
    segments: items(ds.SegmentSequence).map((s) => ({
      number: num(s.SegmentNumber) ?? 0,
      label: str(s.SegmentLabel) ?? '',
      ...(codeOf(s.SegmentedPropertyCategoryCodeSequence) ? { category: codeOf(s.SegmentedPropertyCategoryCodeSequence) } : {}),
      ...(codeOf(s.SegmentedPropertyTypeCodeSequence) ? { type: codeOf(s.SegmentedPropertyTypeCodeSequence) } : {}),
    })),
    frames,
    referencedSeries: items(ds.ReferencedSeriesSequence).map((r) => ({
      seriesInstanceUid: str(r.SeriesInstanceUID) ?? '',
      sopInstanceUids: items(r.ReferencedInstanceSequence).map((i) => str(i.ReferencedSOPInstanceUID) ?? ''),
    })),
  };
  return { ...header, pixelDataOffset: await pixelDataOffset(path, size, packedBytes(numberOfFrames, rows, columns), transferSyntaxUid) };
}

/**
 * Where the packed frames start: Pixel Data must be the file's last element, of exactly the packed length
 * (plus one padding byte when odd), so a frame can be read at its offset without parsing the value.
 */
async function pixelDataOffset(path: string, size: number, bytes: number, ts: string): Promise<number> {
  const padded = bytes + (bytes % 2);
  const explicit = ts === '1.2.840.10008.1.2.1';
  const headerLen = explicit ? 12 : 8;
  const offset = size - padded;
  const el = Buffer.alloc(headerLen);
  if (offset - headerLen >= 0) {
    const fh = await open(path, 'r');
    try {
      await fh.read(el, 0, headerLen, offset - headerLen);
    } finally {
      await fh.close();
    }
  }
  const tagOk = el.readUInt16LE(0) === 0x7fe0 && el.readUInt16LE(2) === 0x0010;
  const lenOk = explicit ? el.toString('latin1', 4, 6) === 'OB' || el.toString('latin1', 4, 6) === 'OW' ? el.readUInt32LE(8) === padded : false : el.readUInt32LE(4) === padded;
  if (offset - headerLen < 0 || !tagOk || !lenOk)
    throw new InvalidDicom(`the label map's Pixel Data is not the last element with the ${padded} bytes its ${bytes * 8} frame bits need`);
  return offset;
}

/** One frame unpacked to one byte per pixel (0 or 1). */
export async function readSegFrame(path: string, header: SegHeader, index: number): Promise<Uint8Array> {
  const n = header.rows * header.columns;
  const startBit = index * n;
  const firstByte = Math.floor(startBit / 8);
  const buf = Buffer.alloc(Math.ceil((startBit + n) / 8) - firstByte);
  const fh = await open(path, 'r');
  try {
    await fh.read(buf, 0, buf.length, header.pixelDataOffset + firstByte);
  } finally {
    await fh.close();
  }
  const out = new Uint8Array(n);
  const shift = startBit - firstByte * 8;
  for (let i = 0; i < n; i++) {
    const b = shift + i;
    out[i] = (buf[b >> 3]! >> (b & 7)) & 1;
  }
  return out;
}
