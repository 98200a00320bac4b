import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidDicom } from '../errors.js';
import { generatePhantom, type PhantomResult } from '../phantom/generate-phantom.js';
import { readInstanceHeader, readSliceHu, scanSeriesDir } from './read-instance.js';

let dir: string;
let phantom: PhantomResult;
let bytes: Uint8Array;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ildflow-read-'));
  phantom = await generatePhantom({
    dir: join(dir, 'series'), rows: 48, columns: 40, slices: 4, sliceThicknessMm: 2.5, pixelSpacingMm: 7,
    seed: 11, study: { accessionNumber: 'ACC42', studyDate: '20230301' }, patient: { id: 'MRN-9' },
  });
  bytes = new Uint8Array(await readFile(phantom.files[1]!));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** Writes a data set with dcmjs, for objects the phantom never makes. */
function encode(ds: Record<string, unknown>, transferSyntaxUid = '1.2.840.10008.1.2.1'): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: ds.SOPClassUID, MediaStorageSOPInstanceUID: ds.SOPInstanceUID,
    TransferSyntaxUID: transferSyntaxUid, ImplementationClassUID: '2.25.1',
  }));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  return new Uint8Array(dict.write());
}

function invalid(fn: () => unknown): InvalidDicom {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidDicom);
    return err as InvalidDicom;
  }
  throw new Error('expected InvalidDicom');
}

const invalidMessage = (fn: () => unknown): string => invalid(fn).detail;

describe('readInstanceHeader', () => {
  // The kind, not the message, decides whether a retrieval is retried (verify-spool.ts): a cut transfer may heal.
  it.each<[string, InvalidDicom['kind'], () => Uint8Array]>([
    ['a file cut inside the pixel data', 'damaged', () => bytes.subarray(0, bytes.length - 100)],
    ['a file cut inside the header', 'damaged', () => bytes.subarray(0, 400)],
    ['a file too short to be DICOM', 'damaged', () => bytes.subarray(0, 100)],
    ['something that is not DICOM', 'damaged', () => new TextEncoder().encode('%PDF-1.7\n'.repeat(40))],
    ['a non-image object', 'unusable', () => encode({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.33', SOPInstanceUID: '2.25.7', Modality: 'SR', StudyInstanceUID: '2.25.8', SeriesInstanceUID: '2.25.9' })],
  ])('calls %s %s', (_what, kind, make) => {
    expect(invalid(() => readInstanceHeader(make())).kind).toBe(kind);
  });

  it('round-trips the header the phantom wrote', () => {
    const h = readInstanceHeader(phantom.files[1]!);
    expect(h).toMatchObject({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      studyInstanceUid: phantom.studyInstanceUid,
      seriesInstanceUid: phantom.seriesInstanceUid,
      modality: 'CT',
      imageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      instanceNumber: 2,
      imageOrientationPatient: [1, 0, 0, 0, 1, 0],
      pixelSpacing: [7, 7],
      sliceThickness: 2.5,
      rows: 48,
      columns: 40,
      bitsAllocated: 16,
      pixelRepresentation: 1,
      samplesPerPixel: 1,
      rescaleSlope: 1,
      rescaleIntercept: -1024,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      numberOfFrames: 1,
      convolutionKernel: 'LUNG',
      accessionNumber: 'ACC42',
      studyDate: '20230301',
      acquisitionDate: '20230301',
      patientId: 'MRN-9',
      numberOfSeriesRelatedInstances: 4,
      pixelDataLength: 48 * 40 * 2,
    });
    expect(h.imagePositionPatient[2]).toBeCloseTo(5); // slice 1 of 4, 2.5 mm apart, slice 0 at z = 7.5
    expect(readInstanceHeader(bytes)).toEqual(h);
  });

  it('converts stored pixels to HU with the slice rescale, from bytes or from the path alike', () => {
    const h = readInstanceHeader(bytes);
    const a = new Int16Array(48 * 40 + 5);
    const b = new Int16Array(48 * 40 + 5);
    readSliceHu(bytes, h, a, 5);
    readSliceHu(phantom.files[1]!, h, b, 5);
    expect(a).toEqual(b);
    expect(a[5]).toBeLessThan(-900); // the corner is outside air, about −1000 HU
    const stored = new DataView(bytes.buffer, bytes.byteOffset + h.pixelDataOffset, 4).getInt16(0, true);
    expect(a[5]).toBe(stored - 1024);
  });

  it('refuses a file truncated inside the pixel data', () => {
    expect(invalidMessage(() => readInstanceHeader(bytes.subarray(0, bytes.length - 100)))).toMatch(/truncated/);
  });

  it('refuses a file truncated inside the header', () => {
    expect(invalidMessage(() => readInstanceHeader(bytes.subarray(0, 400)))).toMatch(/truncated|cannot be parsed|missing/);
  });

  it('refuses something that is not DICOM', () => {
    expect(invalidMessage(() => readInstanceHeader(new TextEncoder().encode('%PDF-1.7\n'.repeat(40))))).toMatch(/not a DICOM Part 10 file/);
  });

  it('refuses a compressed transfer syntax with its name', () => {
    // Same length as the explicit VR little endian UID, so the header stays well formed.
    const patched = Buffer.from(bytes);
    const at = patched.indexOf('1.2.840.10008.1.2.1\0', 132, 'latin1');
    expect(at).toBeGreaterThan(0);
    patched.write('1.2.840.10008.1.2.5\0', at, 'latin1');
    expect(invalidMessage(() => readInstanceHeader(patched))).toMatch(/RLE Lossless \(1\.2\.840\.10008\.1\.2\.5\) is compressed: its pixels are decoded on arrival/);
    // Accepting encapsulated syntaxes does not accept native pixel data that claims to be one (PS3.5 §A.4).
    expect(invalidMessage(() => readInstanceHeader(patched, { encapsulated: true }))).toMatch(/RLE Lossless pixel data is not encapsulated/);
  });

  it('refuses a non-image object such as a structured report', () => {
    const sr = encode({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.33', SOPInstanceUID: '2.25.7', Modality: 'SR', StudyInstanceUID: '2.25.8', SeriesInstanceUID: '2.25.9' });
    expect(invalidMessage(() => readInstanceHeader(sr))).toMatch(/not an image/);
  });

  it('refuses a colour image', () => {
    const h = readInstanceHeader(bytes);
    const rgb = encode({
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.7', SOPInstanceUID: '2.25.7', Modality: 'OT', StudyInstanceUID: '2.25.8',
      SeriesInstanceUID: '2.25.9', SamplesPerPixel: 3, PhotometricInterpretation: 'RGB', Rows: 2, Columns: 2,
      BitsAllocated: 8, BitsStored: 8, HighBit: 7, PixelRepresentation: 0, PlanarConfiguration: 0,
      PixelData: new Uint8Array(12).buffer, _vrMap: { PixelData: 'OB' },
    });
    expect(h.rows).toBe(48);
    expect(invalidMessage(() => readInstanceHeader(rgb))).toMatch(/3 samples per pixel/);
  });

  it('refuses pixel data whose length does not match the declared size', () => {
    const lying = Buffer.from(bytes);
    // Rows (0028,0010) US: claim 4096 rows, far more than the pixel data holds.
    const tag = Buffer.from([0x28, 0x00, 0x10, 0x00, 0x55, 0x53, 0x02, 0x00]);
    const at = lying.indexOf(tag);
    lying.writeUInt16LE(4096, at + 8);
    expect(invalidMessage(() => readInstanceHeader(lying))).toMatch(/pixel data holds 3840 bytes but 4096×40×2×1 needs/);
  });
});

describe('scanSeriesDir', () => {
  it('reads every Part 10 file and lists the others with a reason', async () => {
    const d = join(dir, 'mixed');
    await rm(d, { recursive: true, force: true });
    await generatePhantom({ dir: d, rows: 32, columns: 32, slices: 3, pixelSpacingMm: 8, seed: 2 });
    await writeFile(join(d, 'notes.txt'), 'not dicom');
    await copyFile(join(d, 'ground-truth.json'), join(d, 'copy.json'));
    const { instances, skipped } = await scanSeriesDir(d);
    expect(instances).toHaveLength(3);
    expect(skipped.map((s) => s.file).sort()).toEqual(['copy.json', 'ground-truth.json', 'notes.txt']);
    expect(skipped[0]!.reason).toMatch(/DICOM/);
  });
});
