/**
 * Reads the header of one DICOM Part 10 instance (PS3.10 §7) and its stored pixels as Hounsfield units.
 * DICOM input is untrusted (docs/design.md §6): every length, dimension and bit depth is checked before anything
 * is allocated, and every refusal is an `InvalidDicom` whose message names the problem, never the patient.
 * Only dicom-parser (and dcmjs in the phantom) may touch raw DICOM; everything else uses `InstanceHeader`.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename, join } from 'node:path';
import dicomParser from 'dicom-parser';
import { InvalidDicom } from '../errors.js';
import { describeTransferSyntax, isDecodable, isNative } from './transfer-syntax.js';

export type Vec3 = readonly [number, number, number];

export type InstanceHeader = Readonly<{
  sopInstanceUid: string;
  sopClassUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  modality: string;
  imageType: readonly string[];
  instanceNumber?: number;
  imagePositionPatient: Vec3;
  imageOrientationPatient: readonly [number, number, number, number, number, number];
  /** PS3.3 C.7.6.2.1.1: [row spacing (between rows, i.e. along a column), column spacing] in mm. */
  pixelSpacing: readonly [number, number];
  sliceThickness?: number;
  spacingBetweenSlices?: number;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
  samplesPerPixel: number;
  photometricInterpretation: string;
  rescaleSlope: number;
  rescaleIntercept: number;
  transferSyntaxUid: string;
  numberOfFrames: number;
  convolutionKernel?: string;
  seriesDescription?: string;
  studyDate?: string;
  acquisitionDate?: string;
  seriesDate?: string;
  accessionNumber?: string;
  patientId?: string;
  /** PatientName as stored (PN, all component groups) and PatientBirthDate (DA): the second identifiers. */
  patientName?: string;
  patientBirthDate?: string;
  bodyPartExamined?: string;
  numberOfSeriesRelatedInstances?: number;
  /** Byte offset of the Pixel Data value in the file, and its length (of all frames). */
  pixelDataOffset: number;
  pixelDataLength: number;
}>;

/** Upper bounds that no chest CT slice exceeds; larger claims are treated as hostile or corrupt. */
const MAX_DIMENSION = 4096;
const MAX_FRAMES = 4096;
/**
 * What an encapsulated image may declare before anything decodes it (docs/design.md §6: sizes are checked
 * before anything is allocated). Its bytes say nothing about its decoded size — 10 kB of JPEG-LS can claim
 * 16 frames of 4096² — so the header's claim is the bound: one frame (a CT slice, PS3.3 A.3), rows and
 * columns within 1…4096, at most 32 MiB decoded (rows × columns × frames × samples × bits allocated / 8).
 */
export const DECODE_LIMITS = {
  frames: 1,
  /** 4096 × 4096 16-bit pixels; each side is also held to 1…MAX_DIMENSION, as for native images. */
  decodedBytes: 32 * 1024 * 1024,
  /** The file itself: the compressed frame with its header (a 512² CT slice is 0.1–0.3 MB compressed). */
  fileBytes: 64 * 1024 * 1024,
} as const;
/** Part 10 header bytes read before the pixel data on a first attempt: a CT slice's header is a few kB. */
export const HEADER_PROBE_BYTES = 64 * 1024;
/**
 * The most header (everything before the pixel data) ever read: a header that needs more is refused, never
 * read whole — a hostile file can put hundreds of MB in a private element (docs/security.md). Long vendor
 * private sequences (CSA headers, dose reports) stay far below it.
 */
export const MAX_HEADER_BYTES = 4 * 1024 * 1024;
/** Each further attempt reads this many times more, so a long header costs at most four reads. */
const HEADER_GROWTH = 4;
const PIXEL_DATA_TAG = 'x7fe00010';

/** Image SOP classes we can treat as single-sample cross-sectional images (CT, enhanced CT, MR, PET,
 *  secondary capture). Anything else — SR, presentation states, encapsulated PDF — is not an image. */
function isImageSopClass(uid: string): boolean {
  return (
    /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.(2|2\.1|2\.2|4|4\.1|128|7|7\.\d|20|481\.\d+)$/.test(uid) ||
    uid === '1.2.840.10008.5.1.4.1.1.130'
  );
}

type DataSet = ReturnType<typeof dicomParser.parseDicom>;

/**
 * `encapsulated: true` also accepts the encapsulated syntaxes decode-instance.ts decodes, checked against
 * DECODE_LIMITS from the header alone; such a header's pixels cannot be read in place (readSliceHu refuses
 * them): decode the file first. Without it, every header returned has pixels readSliceHu can read.
 */
export type ReadOptions = Readonly<{ encapsulated?: boolean }>;

/**
 * Parses the header of one Part 10 instance.
 * @param source - the whole file's bytes, or a path (then only the header bytes are read).
 * @throws InvalidDicom when the object is not a usable, uncompressed, single-sample image.
 */
export function readInstanceHeader(source: Uint8Array | string, opts: ReadOptions = {}): InstanceHeader {
  if (typeof source !== 'string') return parseHeader(source, source.byteLength, opts);
  return readHeaderFromFile(source, opts);
}

/**
 * The header of a file whose first bytes are already in memory (what a receiver kept as the instance
 * streamed to disk, docs/design.md §8), parsed with every check the path form makes against the file's real
 * size, so the file need not be opened again. Null when the prefix does not settle it — the header runs past
 * the prefix, or the file is refused for any reason: the caller then reads the file itself, once it is
 * written, with `readInstanceHeader(path)`, which gives the refusal in the file's own words.
 */
export function readInstanceHeaderFromPrefix(prefix: Uint8Array, fileSize: number, opts: ReadOptions = {}): InstanceHeader | null {
  try {
    return parseHeader(prefix.byteLength > fileSize ? prefix.subarray(0, fileSize) : prefix, fileSize, opts);
  } catch {
    return null;
  }
}

function readHeaderFromFile(source: string, opts: ReadOptions): InstanceHeader {
  const fd = openSync(source, 'r');
  try {
    const size = fstatSync(fd).size;
    for (let length = Math.min(size, HEADER_PROBE_BYTES); ; length = Math.min(size, MAX_HEADER_BYTES, length * HEADER_GROWTH)) {
      const probe = readBytes(fd, 0, length);
      try {
        return parseHeader(probe, size, opts);
      } catch (err) {
        if (probe.byteLength >= size) throw err; // the whole file was read: the fault is the file's
        // The header is longer than the probe (or the probe cut an element): read more, up to the cap.
        if (length >= MAX_HEADER_BYTES)
          throw new InvalidDicom(`the header (the elements before the pixel data) is longer than ${MAX_HEADER_BYTES / (1024 * 1024)} MiB, the most ildflow reads: refused`);
      }
    }
  } finally {
    closeSync(fd);
  }
}

function readBytes(fd: number, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? out : out.subarray(0, done);
}

function parseHeader(bytes: Uint8Array, fileSize: number, opts: ReadOptions): InstanceHeader {
  if (fileSize < 132) throw new InvalidDicom(`file is ${fileSize} bytes: too short to be a DICOM Part 10 file`, { kind: 'damaged' });
  if (String.fromCharCode(bytes[128]!, bytes[129]!, bytes[130]!, bytes[131]!) !== 'DICM') {
    throw new InvalidDicom('not a DICOM Part 10 file: no "DICM" prefix at byte 128 (PS3.10 §7.1)', { kind: 'damaged' });
  }
  const meta = parseOrExplain(() => dicomParser.readPart10Header(bytes as never), 'file meta information');
  const transferSyntaxUid = meta.string('x00020010')?.trim() ?? '';
  if (!transferSyntaxUid) throw new InvalidDicom('file meta information has no Transfer Syntax UID (0002,0010)');
  const encapsulated = isDecodable(transferSyntaxUid);
  if (!isNative(transferSyntaxUid) && !(encapsulated && opts.encapsulated)) {
    throw new InvalidDicom(
      encapsulated
        ? `transfer syntax ${describeTransferSyntax(transferSyntaxUid)} (${transferSyntaxUid}) is compressed: its pixels are decoded on arrival, not read in place`
        : `transfer syntax ${describeTransferSyntax(transferSyntaxUid)} (${transferSyntaxUid}) is not supported: ask the PACS for Explicit or Implicit VR Little Endian`,
    );
  }
  const ds = parseOrExplain(
    () => dicomParser.parseDicom(bytes as never, { untilTag: PIXEL_DATA_TAG }),
    'data set',
  );
  if (encapsulated) checkDeclaredSize(ds, transferSyntaxUid);
  return headerFrom(ds, transferSyntaxUid, fileSize);
}

/**
 * The header's claim about an encapsulated image, checked before any codec runs: a decoder allocates what
 * the header declares, whatever the compressed bytes hold (DECODE_LIMITS). Reads the values raw, before
 * headerFrom's checks, so the reason for a decompression bomb is its size, whatever else it gets wrong.
 */
function checkDeclaredSize(ds: DataSet, transferSyntaxUid: string): void {
  const name = describeTransferSyntax(transferSyntaxUid);
  const u16 = (tag: string, fallback: number): number => (ds.elements[tag]?.length === 2 ? ds.uint16(tag)! : fallback);
  const rows = u16('x00280010', 0);
  const columns = u16('x00280011', 0);
  const frames = Number(ds.string('x00280008')?.trim() || '1');
  const samples = u16('x00280002', 1);
  const bits = u16('x00280100', 16);
  const refuse = (what: string): never => {
    throw new InvalidDicom(`${name} pixel data ${what}: refused from the header, before decoding`);
  };
  if (rows < 1 || columns < 1 || rows > MAX_DIMENSION || columns > MAX_DIMENSION)
    throw new InvalidDicom(`image size ${rows}×${columns} is outside 1…${MAX_DIMENSION}; the ${name} pixel data was not decoded`);
  if (!Number.isInteger(frames) || frames !== DECODE_LIMITS.frames)
    refuse(`holds ${ds.string('x00280008')?.trim()} frames, and a CT slice is ${DECODE_LIMITS.frames} frame (NumberOfFrames (0028,0008))`);
  const decoded = rows * columns * frames * samples * Math.ceil(bits / 8);
  if (decoded > DECODE_LIMITS.decodedBytes)
    refuse(`would decode to ${mib(decoded)} (${rows}×${columns} × ${frames} frame(s) × ${samples} sample(s) × ${bits} bits), over the ${mib(DECODE_LIMITS.decodedBytes)} cap`);
  const pixel = ds.elements[PIXEL_DATA_TAG];
  // PS3.5 §A.4: encapsulated pixel data has an undefined length and is a sequence of fragments.
  if (pixel && !pixel.hadUndefinedLength) refuse('is not encapsulated (PS3.5 §A.4: it must have an undefined length)');
}

function mib(bytes: number): string {
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}

function parseOrExplain(parse: () => DataSet, what: string): DataSet {
  try {
    return parse();
  } catch (err) {
    // dicom-parser throws strings, Errors, and (parseDicom) `{ exception, dataSet }` objects whose message
    // is in `exception`; the words mention buffer overruns for truncated input.
    const inner = typeof err === 'object' && err !== null && 'exception' in err ? (err as { exception: unknown }).exception : err;
    // dicom-parser descends into sequences by recursion: thousands of nested items (PS3.5 §7.5) exhaust the
    // stack. The file says the same on every read, so it is unusable, not cut ("exceeded" is not an overrun).
    if (inner instanceof RangeError && /call stack/i.test(inner.message)) throw new InvalidDicom(`DICOM ${what} has sequences nested too deeply to read`);
    const raw = inner instanceof Error ? inner.message : String(inner);
    const truncated = /overrun|overread|beyond|end of buffer|exceed|past the end|out of bounds/i.test(raw);
    throw new InvalidDicom(
      truncated
        ? `DICOM ${what} is truncated: an element runs past the end of the file`
        : `DICOM ${what} cannot be parsed (${raw.replace(/^dicomParser\.\w+:\s*/, '').slice(0, 160)})`,
      // Truncated or garbled where an element should be: what a cut or mangled transfer leaves.
      { kind: 'damaged' },
    );
  }
}

function headerFrom(ds: DataSet, transferSyntaxUid: string, fileSize: number): InstanceHeader {
  const str = (tag: string): string | undefined => {
    const v = ds.string(tag)?.trim();
    return v ? v : undefined;
  };
  const required = (tag: string, keyword: string): string => {
    const v = str(tag);
    if (v === undefined) throw new InvalidDicom(`required attribute ${keyword} (${fmtTag(tag)}) is missing or empty`);
    return v;
  };
  const num = (tag: string, index = 0): number | undefined => {
    const raw = ds.string(tag)?.split('\\')[index]?.trim();
    if (!raw) return undefined;
    const v = Number(raw);
    return Number.isFinite(v) ? v : undefined;
  };
  const nums = (tag: string, keyword: string, count: number): number[] => {
    const parts = (ds.string(tag) ?? '').split('\\').map((p) => Number(p.trim()));
    if (parts.length !== count || parts.some((p) => !Number.isFinite(p))) {
      throw new InvalidDicom(`${keyword} (${fmtTag(tag)}) must hold ${count} numbers`);
    }
    return parts;
  };
  const us = (tag: string, keyword: string): number => {
    const el = ds.elements[tag];
    if (!el || el.length < 2) throw new InvalidDicom(`required attribute ${keyword} (${fmtTag(tag)}) is missing`);
    return ds.uint16(tag)!;
  };

  const sopClassUid = required('x00080016', 'SOPClassUID');
  const pixel = ds.elements[PIXEL_DATA_TAG];
  if (!isImageSopClass(sopClassUid) || !pixel) {
    throw new InvalidDicom(`object is not an image this engine can read (SOP Class ${sopClassUid}${pixel ? '' : ', no Pixel Data'})`);
  }
  const samplesPerPixel = us('x00280002', 'SamplesPerPixel');
  if (samplesPerPixel !== 1) throw new InvalidDicom(`image has ${samplesPerPixel} samples per pixel; only greyscale (1) is supported`);
  const photometricInterpretation = required('x00280004', 'PhotometricInterpretation');
  if (photometricInterpretation !== 'MONOCHROME2' && photometricInterpretation !== 'MONOCHROME1') {
    throw new InvalidDicom(`photometric interpretation ${photometricInterpretation} is not greyscale`);
  }
  const rows = us('x00280010', 'Rows');
  const columns = us('x00280011', 'Columns');
  if (rows < 1 || columns < 1 || rows > MAX_DIMENSION || columns > MAX_DIMENSION) {
    throw new InvalidDicom(`image size ${rows}×${columns} is outside 1…${MAX_DIMENSION}`);
  }
  const bitsAllocated = us('x00280100', 'BitsAllocated');
  const bitsStored = us('x00280101', 'BitsStored');
  const pixelRepresentation = us('x00280103', 'PixelRepresentation');
  if (bitsAllocated !== 16) throw new InvalidDicom(`bits allocated ${bitsAllocated} is not supported: CT stores 16-bit pixels`);
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw new InvalidDicom(`bits stored ${bitsStored} is not within 1…${bitsAllocated}`);
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) {
    throw new InvalidDicom(`pixel representation ${pixelRepresentation} is neither 0 (unsigned) nor 1 (signed)`);
  }
  const numberOfFrames = num('x00280008') ?? 1;
  if (!Number.isInteger(numberOfFrames) || numberOfFrames < 1 || numberOfFrames > MAX_FRAMES) {
    throw new InvalidDicom(`number of frames ${numberOfFrames} is not within 1…${MAX_FRAMES}`);
  }
  // Encapsulated pixels are sized by their header (checkDeclaredSize) and then by the codec; native ones by their length.
  if (!isDecodable(transferSyntaxUid)) checkNativePixelLength(pixel, [rows, columns, bitsAllocated / 8, numberOfFrames], fileSize);

  const rescaleSlope = num('x00281053') ?? 1;
  const rescaleIntercept = num('x00281052') ?? 0;
  if (rescaleSlope === 0) throw new InvalidDicom('rescale slope is 0');

  const pixelSpacing = nums('x00280030', 'PixelSpacing', 2);
  if (pixelSpacing.some((p) => p <= 0)) throw new InvalidDicom('PixelSpacing must be positive');
  const iop = nums('x00200037', 'ImageOrientationPatient', 6);
  const ipp = nums('x00200032', 'ImagePositionPatient', 3);

  return {
    sopInstanceUid: required('x00080018', 'SOPInstanceUID'),
    sopClassUid,
    studyInstanceUid: required('x0020000d', 'StudyInstanceUID'),
    seriesInstanceUid: required('x0020000e', 'SeriesInstanceUID'),
    frameOfReferenceUid: required('x00200052', 'FrameOfReferenceUID'),
    modality: required('x00080060', 'Modality'),
    imageType: (str('x00080008') ?? '').split('\\').map((s) => s.trim()).filter(Boolean),
    instanceNumber: num('x00200013'),
    imagePositionPatient: [ipp[0]!, ipp[1]!, ipp[2]!],
    imageOrientationPatient: [iop[0]!, iop[1]!, iop[2]!, iop[3]!, iop[4]!, iop[5]!],
    pixelSpacing: [pixelSpacing[0]!, pixelSpacing[1]!],
    sliceThickness: num('x00180050'),
    spacingBetweenSlices: num('x00180088'),
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    pixelRepresentation,
    samplesPerPixel,
    photometricInterpretation,
    rescaleSlope,
    rescaleIntercept,
    transferSyntaxUid,
    numberOfFrames,
    convolutionKernel: str('x00181210'),
    seriesDescription: str('x0008103e'),
    studyDate: str('x00080020'),
    acquisitionDate: str('x00080022'),
    seriesDate: str('x00080021'),
    accessionNumber: str('x00080050'),
    patientId: str('x00100020'),
    patientName: str('x00100010'),
    patientBirthDate: str('x00100030'),
    bodyPartExamined: str('x00180015'),
    numberOfSeriesRelatedInstances: num('x00201209'),
    pixelDataOffset: pixel.dataOffset,
    pixelDataLength: pixel.length,
  };
}

/** Native pixel data must hold exactly rows × columns × bytes per pixel × frames bytes, all inside the file. */
function checkNativePixelLength(pixel: DataSet['elements'][string], dims: readonly number[], fileSize: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (pixel.hadUndefinedLength || (pixel as { encapsulatedPixelData?: boolean }).encapsulatedPixelData) {
    throw new InvalidDicom('pixel data is encapsulated (compressed) although the transfer syntax is uncompressed');
  }
  // Odd lengths are padded to even (PS3.5 §7.1.1), so allow one byte of slack.
  if (pixel.length < expected || pixel.length > expected + 1) {
    throw new InvalidDicom(`pixel data holds ${pixel.length} bytes but ${dims.join('×')} needs ${expected}`);
  }
  if (pixel.dataOffset + expected > fileSize) {
    throw new InvalidDicom(`file is truncated: pixel data needs ${expected} bytes but only ${Math.max(0, fileSize - pixel.dataOffset)} remain`, { kind: 'damaged' });
  }
}

function fmtTag(tag: string): string {
  return `${tag.slice(1, 5).toUpperCase()},${tag.slice(5, 9).toUpperCase()}`;
}

const INT16_MIN = -32768;
const INT16_MAX = 32767;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/**
 * Converts one frame's stored pixels (little-endian bytes starting at `pixels[0]`) to HU with the slice's
 * own rescale slope/intercept (PS3.3 C.11.1.1.2), clamped to int16, written into `target` at `targetOffset`.
 */
export function storedPixelsToHu(
  pixels: Uint8Array,
  header: Pick<InstanceHeader, 'rows' | 'columns' | 'bitsStored' | 'pixelRepresentation' | 'rescaleSlope' | 'rescaleIntercept'>,
  target: Int16Array,
  targetOffset: number,
): void {
  const n = header.rows * header.columns;
  if (pixels.byteLength < n * 2) throw new InvalidDicom(`pixel buffer holds ${pixels.byteLength} bytes, ${n * 2} needed`);
  if (targetOffset < 0 || targetOffset + n > target.length) throw new RangeError('target too small for slice');
  const signed = header.pixelRepresentation === 1;
  const { rescaleSlope: slope, rescaleIntercept: intercept, bitsStored } = header;
  // Aligned view without a copy when possible; otherwise a DataView (slower, still one pass).
  const aligned = LITTLE_ENDIAN_HOST && pixels.byteOffset % 2 === 0;
  const shift = 32 - bitsStored; // sign-extend / mask the stored bits (PS3.5 §8.1.1)
  if (aligned) {
    const raw = signed
      ? new Int16Array(pixels.buffer, pixels.byteOffset, n)
      : new Uint16Array(pixels.buffer, pixels.byteOffset, n);
    const identity = slope === 1 && Number.isInteger(intercept);
    for (let i = 0; i < n; i++) {
      let v = raw[i]!;
      if (bitsStored < 16) v = signed ? (v << shift) >> shift : (v << shift) >>> shift;
      let hu = identity ? v + intercept : Math.round(v * slope + intercept);
      if (hu < INT16_MIN) hu = INT16_MIN;
      else if (hu > INT16_MAX) hu = INT16_MAX;
      target[targetOffset + i] = hu;
    }
    return;
  }
  const view = new DataView(pixels.buffer, pixels.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    let v = signed ? view.getInt16(i * 2, true) : view.getUint16(i * 2, true);
    if (bitsStored < 16) v = signed ? (v << shift) >> shift : (v << shift) >>> shift;
    let hu = Math.round(v * slope + intercept);
    if (hu < INT16_MIN) hu = INT16_MIN;
    else if (hu > INT16_MAX) hu = INT16_MAX;
    target[targetOffset + i] = hu;
  }
}

/**
 * Reads frame 0 of a slice into `target` as HU. From a path only the pixel bytes are read, into `scratch`
 * when given (reuse one scratch buffer across a series to keep peak memory at one slice).
 */
export function readSliceHu(
  source: Uint8Array | string,
  header: InstanceHeader,
  target: Int16Array,
  targetOffset: number,
  scratch?: Uint8Array,
): void {
  if (!isNative(header.transferSyntaxUid))
    throw new InvalidDicom(`pixel data is ${describeTransferSyntax(header.transferSyntaxUid)}-compressed: it must be decoded (decode-instance.ts) before it is read`);
  const frameBytes = header.rows * header.columns * 2;
  if (typeof source !== 'string') {
    if (header.pixelDataOffset + frameBytes > source.byteLength) throw new InvalidDicom('file is truncated inside the pixel data', { kind: 'damaged' });
    storedPixelsToHu(source.subarray(header.pixelDataOffset, header.pixelDataOffset + frameBytes), header, target, targetOffset);
    return;
  }
  const buf = scratch && scratch.byteLength >= frameBytes ? scratch.subarray(0, frameBytes) : new Uint8Array(frameBytes);
  const fd = openSync(source, 'r');
  try {
    let done = 0;
    while (done < frameBytes) {
      const n = readSync(fd, buf, done, frameBytes - done, header.pixelDataOffset + done);
      if (n === 0) throw new InvalidDicom('file is truncated inside the pixel data', { kind: 'damaged' });
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  storedPixelsToHu(buf, header, target, targetOffset);
}

export type InstanceIdentity = Readonly<{ studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid?: string }>;

/**
 * The study and series a file claims even when `readInstanceHeader` refuses it (a cut pixel data, absurd
 * dimensions), so a source can keep it in its series and the refusal reaches the case with its reason
 * instead of the file vanishing. Null when not even that can be read. Reads the header bytes only.
 */
export function readInstanceIdentity(path: string): InstanceIdentity | null {
  try {
    const fd = openSync(path, 'r');
    let bytes: Uint8Array;
    try {
      bytes = readBytes(fd, 0, Math.min(fstatSync(fd).size, HEADER_PROBE_BYTES));
    } finally {
      closeSync(fd);
    }
    return identityOf(bytes);
  } catch {
    return null;
  }
}

/** readInstanceIdentity from a file's first bytes already in memory (any transfer syntax); null when unreadable. */
export function identityOf(bytes: Uint8Array): InstanceIdentity | null {
  try {
    if (bytes.byteLength < 132 || String.fromCharCode(bytes[128]!, bytes[129]!, bytes[130]!, bytes[131]!) !== 'DICM') return null;
    let ds: DataSet | undefined;
    try {
      ds = dicomParser.parseDicom(bytes as never, { untilTag: PIXEL_DATA_TAG });
    } catch (err) {
      // parseDicom hands back what it parsed before the fault.
      ds = (err as { dataSet?: DataSet } | null)?.dataSet;
    }
    const s = (tag: string): string | undefined => ds?.string(tag)?.replace(/\0/g, '').trim() || undefined;
    const studyInstanceUid = s('x0020000d');
    const seriesInstanceUid = s('x0020000e');
    if (!studyInstanceUid || !seriesInstanceUid) return null;
    return { studyInstanceUid, seriesInstanceUid, sopInstanceUid: s('x00080018') };
  } catch {
    return null;
  }
}

export type ScannedInstance = Readonly<{ path: string; header: InstanceHeader }>;
export type SkippedFile = Readonly<{ file: string; reason: string }>;

/**
 * Reads the headers of every Part 10 file directly in `dir` (not recursive). Files that are not usable
 * DICOM images are skipped with a reason (file name + why), never silently.
 */
export async function scanSeriesDir(dir: string): Promise<{ instances: ScannedInstance[]; skipped: SkippedFile[] }> {
  const names = (await readdir(dir)).sort();
  const instances: ScannedInstance[] = [];
  const skipped: SkippedFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const st = await stat(path);
    if (!st.isFile()) continue;
    try {
      instances.push({ path, header: readInstanceHeader(path) });
    } catch (err) {
      if (!(err instanceof InvalidDicom)) throw err;
      skipped.push({ file: basename(path), reason: err.detail });
    }
  }
  return { instances, skipped };
}
