/**
 * Writes a label map (one class per voxel) as a DICOM Segmentation (PS3.3 A.51 Segmentation IOD) with
 * BINARY segments, one per class that occurs (PS3.3 C.8.20.2 Segmentation Image Module), straight to a file.
 *
 * Why not dcmjs's `derivations.Segmentation` / `adapters`: the derivation keeps every frame of every segment
 * unpacked (one byte per pixel) in memory before `bitPackPixelData()` — 512×512×300 × 6 classes is about
 * 470 MB — and the adapters take Cornerstone or VTK image objects, which a Node worker does not have. So the
 * header is a plain naturalized dataset written by ildflow's one Part 10 writer (dcmjs's data layer), and
 * the Pixel Data element is appended after it, frame by frame: it is the last element of the dataset (tag
 * 7FE0,0010 sorts after every attribute written here), and its length is known beforehand from the frame
 * count. The packed frames are never held whole; the label map itself is the only large array.
 *
 * Frames (PS3.3 C.8.20.2.2): one per segment and slice, only where the segment has at least one voxel —
 * PS3.3 allows empty frames to be left out. Bits are packed per PS3.5 §8.1.1 and PS3.3 C.8.20.2.1: 1 bit
 * per pixel, first pixel in the least significant bit, frames back to back with no padding between them,
 * the whole value padded to an even length.
 */
import { open } from 'node:fs/promises';
import { writePart10 } from '../write-part10.js';
import type { CodedConcept, LabelClass } from '../../engines/label-classes.js';
import type { InstanceHeader, Vec3 } from '../read-instance.js';
import type { StudyAttributes } from '../study-attributes.js';

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';

/** The source series' geometry, slices in the label map's order (z). */
export type SegSource = Readonly<{
  study: StudyAttributes;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  rows: number;
  columns: number;
  /** [between rows, between columns] mm (PS3.3 C.7.6.2.1.1). */
  pixelSpacingMm: readonly [number, number];
  sliceThicknessMm: number;
  spacingBetweenSlicesMm: number;
  orientation: InstanceHeader['imageOrientationPatient'];
  slices: readonly Readonly<{ sopInstanceUid: string; sopClassUid: string; position: Vec3 }>[];
}>;

/** The SEG's own identity and the algorithm that made it (PS3.3 C.7.5.2 Enhanced General Equipment). */
export type SegIdentity = Readonly<{
  sopInstanceUid: string;
  seriesInstanceUid: string;
  seriesNumber: number;
  dimensionOrganizationUid: string;
  manufacturer: string;
  modelName: string;
  softwareVersions: string;
  algorithmName: string;
  now: Date;
}>;

const code = (c: CodedConcept) => ({ CodeValue: c.value, CodingSchemeDesignator: c.scheme, CodeMeaning: c.meaning });
const DERIVATION_SEGMENTATION = { CodeValue: '113076', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Segmentation' };
const PURPOSE_SOURCE_IMAGE = { CodeValue: '121322', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source image for image processing operation' };
/** Tags the Dimension Index Sequence points at (PS3.3 C.7.6.17.1), as AT values. */
const TAG = { segmentIdentification: 0x0062000a, referencedSegmentNumber: 0x0062000b, planePosition: 0x00209113, imagePosition: 0x00200032 } as const;

const pad2 = (n: number) => String(n).padStart(2, '0');
const da = (d: Date) => `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`;
const tm = (d: Date) => `${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}`;

/** The frames to write: for each segment (ascending), the slices where it has voxels (cranial first). */
export function segFrames(labels: Uint8Array, sliceVoxels: number, depth: number, classes: readonly LabelClass[]): { segment: number; z: number }[] {
  const present = new Uint8Array(256 * depth);
  for (let z = 0; z < depth; z++) {
    const base = z * sliceVoxels;
    for (let i = 0; i < sliceVoxels; i++) {
      const v = labels[base + i]!;
      if (v) present[v * depth + z] = 1;
    }
  }
  const frames: { segment: number; z: number }[] = [];
  for (const c of [...classes].sort((a, b) => a.segmentNumber - b.segmentNumber))
    for (let z = 0; z < depth; z++) if (present[c.segmentNumber * depth + z]) frames.push({ segment: c.segmentNumber, z });
  return frames;
}

/** sRGB → CIELab (D65), scaled to PS3.3 C.10.7.1.1's unsigned 16-bit encoding. */
export function cieLab16(rgb: readonly [number, number, number]): [number, number, number] {
  const lin = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  const xyz = [
    (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047,
    0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2],
    (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883,
  ].map((t) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116));
  const L = 116 * xyz[1]! - 16, a = 500 * (xyz[0]! - xyz[1]!), b = 200 * (xyz[1]! - xyz[2]!);
  const clamp = (v: number) => Math.max(0, Math.min(65535, Math.round(v)));
  return [clamp((L * 65535) / 100), clamp(((a + 128) * 65535) / 255), clamp(((b + 128) * 65535) / 255)];
}

/**
 * Writes `labels` (z-major, `labels[(z * rows + y) * columns + x]` = a class's segment number, 0 = none) as
 * a SEG file at `path`. Only the classes that occur become segments.
 * @returns the number of frames and segments written.
 */
export async function writeSegFile(path: string, labels: Uint8Array, source: SegSource, id: SegIdentity, classes: readonly LabelClass[]): Promise<{ frames: number; segments: number[] }> {
  const { rows, columns } = source;
  const sliceVoxels = rows * columns;
  const depth = source.slices.length;
  if (labels.length !== sliceVoxels * depth) throw new Error(`label map holds ${labels.length} voxels, the series ${sliceVoxels * depth}`);
  const frames = segFrames(labels, sliceVoxels, depth, classes);
  const segments = [...new Set(frames.map((f) => f.segment))];
  const used = classes.filter((c) => segments.includes(c.segmentNumber));
  const referenced = [...new Set(frames.map((f) => f.z))].sort((a, b) => a - b).map((z) => source.slices[z]!);
  const s = source.study;
  const dataset = {
    SpecificCharacterSet: s.specificCharacterSet ?? 'ISO_IR 192',
    ImageType: ['DERIVED', 'PRIMARY'],
    InstanceCreationDate: da(id.now),
    InstanceCreationTime: tm(id.now),
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: id.sopInstanceUid,
    StudyDate: s.studyDate,
    SeriesDate: da(id.now),
    ContentDate: da(id.now),
    StudyTime: s.studyTime,
    SeriesTime: tm(id.now),
    ContentTime: tm(id.now),
    AccessionNumber: s.accessionNumber,
    Modality: 'SEG',
    Manufacturer: id.manufacturer,
    ReferringPhysicianName: s.referringPhysicianName,
    SeriesDescription: `ILD label map (${id.algorithmName})`.slice(0, 64),
    ManufacturerModelName: id.modelName,
    // C.12.2 Common Instance Reference: the source images this SEG's frames derive from.
    ReferencedSeriesSequence: [{
      SeriesInstanceUID: source.seriesInstanceUid,
      ReferencedInstanceSequence: referenced.map((r) => ({ ReferencedSOPClassUID: r.sopClassUid, ReferencedSOPInstanceUID: r.sopInstanceUid })),
    }],
    PatientName: s.patientName,
    PatientID: s.patientId,
    ...(s.issuerOfPatientId ? { IssuerOfPatientID: s.issuerOfPatientId } : {}),
    PatientBirthDate: s.patientBirthDate,
    PatientSex: s.patientSex,
    DeviceSerialNumber: id.modelName.slice(0, 64),
    SoftwareVersions: id.softwareVersions,
    StudyInstanceUID: s.studyInstanceUid,
    SeriesInstanceUID: id.seriesInstanceUid,
    StudyID: s.studyId,
    SeriesNumber: id.seriesNumber,
    InstanceNumber: 1,
    FrameOfReferenceUID: source.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    // C.7.6.17 Multi-frame Dimension: frames are indexed by segment, then by position.
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: id.dimensionOrganizationUid }],
    DimensionOrganizationType: '3D',
    DimensionIndexSequence: [
      { DimensionOrganizationUID: id.dimensionOrganizationUid, DimensionIndexPointer: TAG.referencedSegmentNumber, FunctionalGroupPointer: TAG.segmentIdentification, DimensionDescriptionLabel: 'Segment Number' },
      { DimensionOrganizationUID: id.dimensionOrganizationUid, DimensionIndexPointer: TAG.imagePosition, FunctionalGroupPointer: TAG.planePosition, DimensionDescriptionLabel: 'Image Position Patient' },
    ],
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    NumberOfFrames: frames.length,
    Rows: rows,
    Columns: columns,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    // C.8.20.2 Segmentation Image Module.
    SegmentationType: 'BINARY',
    ContentLabel: 'ILD_CLASSES',
    ContentDescription: `ILD class of every lung voxel, ${id.algorithmName}`.slice(0, 64),
    ContentCreatorName: '',
    SegmentSequence: used.map((c) => ({
      SegmentedPropertyCategoryCodeSequence: [code(c.category)],
      SegmentNumber: c.segmentNumber,
      SegmentLabel: c.label,
      SegmentAlgorithmType: 'AUTOMATIC',
      SegmentAlgorithmName: id.algorithmName.slice(0, 64),
      ...(c.rgb ? { RecommendedDisplayCIELabValue: cieLab16(c.rgb) } : {}),
      SegmentedPropertyTypeCodeSequence: [code(c.type)],
    })),
    // C.7.6.16 Multi-frame Functional Groups: geometry shared by every frame, then each frame's own.
    SharedFunctionalGroupsSequence: [{
      PlaneOrientationSequence: [{ ImageOrientationPatient: [...source.orientation] }],
      PixelMeasuresSequence: [{ PixelSpacing: [...source.pixelSpacingMm], SliceThickness: source.sliceThicknessMm, SpacingBetweenSlices: source.spacingBetweenSlicesMm }],
    }],
    PerFrameFunctionalGroupsSequence: frames.map((f) => {
      const slice = source.slices[f.z]!;
      return {
        DerivationImageSequence: [{
          SourceImageSequence: [{ ReferencedSOPClassUID: slice.sopClassUid, ReferencedSOPInstanceUID: slice.sopInstanceUid, PurposeOfReferenceCodeSequence: [PURPOSE_SOURCE_IMAGE] }],
          DerivationCodeSequence: [DERIVATION_SEGMENTATION],
        }],
        FrameContentSequence: [{ DimensionIndexValues: [f.segment, f.z + 1] }],
        PlanePositionSequence: [{ ImagePositionPatient: [...slice.position] }],
        SegmentIdentificationSequence: [{ ReferencedSegmentNumber: f.segment }],
      };
    }),
  };
  const header = writePart10(dataset);
  const valueBytes = Math.ceil((frames.length * sliceVoxels) / 8);
  const paddedBytes = valueBytes + (valueBytes % 2);
  // Explicit VR Little Endian Pixel Data element header (PS3.5 §7.1.2): tag, "OB", 2 reserved, 32-bit length.
  const element = Buffer.alloc(12);
  element.writeUInt16LE(0x7fe0, 0);
  element.writeUInt16LE(0x0010, 2);
  element.write('OB', 4, 'latin1');
  element.writeUInt32LE(paddedBytes, 8);
  const fh = await open(path, 'w');
  try {
    await fh.write(header);
    await fh.write(element);
    await writePackedFrames(fh, labels, sliceVoxels, frames, paddedBytes);
  } finally {
    await fh.close();
  }
  return { frames: frames.length, segments };
}

/** Packs and writes the frames through one 64 KB buffer (plus the final padding byte, if any). */
async function writePackedFrames(fh: Awaited<ReturnType<typeof open>>, labels: Uint8Array, sliceVoxels: number, frames: readonly { segment: number; z: number }[], totalBytes: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024);
  let byte = 0, bit = 0, fill = 0, written = 0;
  const flush = async (): Promise<void> => {
    await fh.write(chunk, 0, fill);
    written += fill;
    fill = 0;
    chunk.fill(0);
  };
  for (const f of frames) {
    const base = f.z * sliceVoxels;
    for (let i = 0; i < sliceVoxels; i++) {
      if (labels[base + i] === f.segment) byte |= 1 << bit;
      if (++bit === 8) {
        chunk[fill++] = byte;
        byte = 0;
        bit = 0;
        if (fill === chunk.length) await flush();
      }
    }
  }
  if (bit) chunk[fill++] = byte;
  if (fill === chunk.length) await flush();
  while (written + fill < totalBytes) chunk[fill++] = 0; // PS3.5 §7.1.1: even length
  await flush();
}
