/**
 * One CT slice as a DICOM Part 10 file (CT Image Storage, Explicit VR Little Endian) via dcmjs, the way
 * shared/phantom/generate-phantom.ts writes its series (meta header dataset + naturalised dataset,
 * denaturalised and written by DicomDict). Adds what the scanner phantom varies: unsigned or signed
 * pixels, the reconstruction kernel, and the padding value outside the reconstructed circle.
 */
import dcmjs from 'dcmjs';

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const IMPLEMENTATION_CLASS_UID = '2.25.208776149925624113455826452318826429938';

export type SliceFile = {
  rows: number; columns: number; pixelSpacingMm: number; thicknessMm: number; spacingMm: number;
  pixels: Int16Array | Uint16Array; signed: boolean;
  /** Stored value of the padding outside the field of view, if any. */
  paddingValue?: number;
  instanceNumber: number; slices: number; position: [number, number, number];
  sopInstanceUid: string; studyInstanceUid: string; seriesInstanceUid: string; frameOfReferenceUid: string;
  kernel: string; manufacturer: string; model: string; seriesDescription: string;
  patientId: string; patientName: string; accession: string; studyDate: string; sex: string;
};

export function encodeSlice(s: SliceFile): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: CT_IMAGE_STORAGE,
    MediaStorageSOPInstanceUID: s.sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LE,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: 'ILDFLOW_SCANPH',
  };
  const vrMap: Record<string, string> = { PixelData: 'OW' };
  const ds: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 100',
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    SOPClassUID: CT_IMAGE_STORAGE,
    SOPInstanceUID: s.sopInstanceUid,
    StudyDate: s.studyDate, SeriesDate: s.studyDate, AcquisitionDate: s.studyDate, ContentDate: s.studyDate,
    StudyTime: '101500', SeriesTime: '101600',
    AccessionNumber: s.accession,
    Modality: 'CT',
    Manufacturer: s.manufacturer,
    ManufacturerModelName: s.model,
    ReferringPhysicianName: '',
    StudyDescription: 'CT CHEST WITHOUT CONTRAST',
    SeriesDescription: s.seriesDescription,
    PatientName: s.patientName, PatientID: s.patientId, PatientBirthDate: '19520101', PatientSex: s.sex,
    BodyPartExamined: 'CHEST',
    SliceThickness: s.thicknessMm,
    SpacingBetweenSlices: s.spacingMm,
    KVP: 120,
    DataCollectionDiameter: 500,
    ReconstructionDiameter: round3(s.columns * s.pixelSpacingMm),
    ConvolutionKernel: s.kernel,
    PatientPosition: 'HFS',
    StudyInstanceUID: s.studyInstanceUid,
    SeriesInstanceUID: s.seriesInstanceUid,
    StudyID: '1', SeriesNumber: 3, InstanceNumber: s.instanceNumber,
    ImagePositionPatient: s.position.map(round3),
    ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
    FrameOfReferenceUID: s.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    SliceLocation: round3(s.position[2]),
    NumberOfSeriesRelatedInstances: s.slices,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: s.rows, Columns: s.columns,
    PixelSpacing: [round3(s.pixelSpacingMm), round3(s.pixelSpacingMm)],
    BitsAllocated: 16, BitsStored: 16, HighBit: 15,
    PixelRepresentation: s.signed ? 1 : 0,
    RescaleIntercept: -1024, RescaleSlope: 1, RescaleType: 'HU',
    WindowCenter: -600, WindowWidth: 1500,
    PixelData: s.pixels.slice().buffer, // own copy: dcmjs keeps a reference until write()
  };
  if (s.paddingValue !== undefined) {
    ds.PixelPaddingValue = s.paddingValue;
    vrMap.PixelPaddingValue = s.signed ? 'SS' : 'US';
  }
  ds._vrMap = vrMap;
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  return new Uint8Array(dict.write() as ArrayBuffer);
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
