/**
 * Writes a naturalized dataset as a DICOM Part 10 file (Explicit VR Little Endian) with dcmjs: ildflow's one
 * Part 10 writer (docs/style.md §11 "DICOM in one toolkit"); the SR, Encapsulated PDF and SEG builders hand
 * it plain objects.
 */
import dcmjs from 'dcmjs';

export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
/** ildflow's implementation class UID (PS3.7 D.3.3.2): derived once, constant across releases. */
export const IMPLEMENTATION_CLASS_UID = '2.25.98201762517338916042207616337409838513';
export const IMPLEMENTATION_VERSION = 'ILDFLOW_1';

export function writePart10(dataset: Record<string, unknown> & { SOPClassUID: string; SOPInstanceUID: string }): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LE,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION,
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write() as ArrayBuffer);
}
