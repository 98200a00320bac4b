/**
 * The reference engine's label map as a DICOM SEG (docs/design.md §5 "Label maps"): its class map (class + 1
 * per lung voxel, analyze-volume.ts) is exactly the SEG's segment numbering (label-classes.ts), so it is
 * written as it is. Patient and study attributes are copied from a source instance (PS3.3 C.7.1.1,
 * C.7.2.1), so the PACS files the SEG with the CT. The UIDs derive from the series and the engine version:
 * a retried analysis writes the same instance again.
 */
import { writeSegFile } from '../../dicom/seg/write-seg.js';
import { derivedUid } from '../../reports/dicom-uids.js';
import { readStudyContextFrom } from '../../reports/study-context.js';
import type { Volume } from '../../volume/assemble-volume.js';
import type { EngineDescriptor } from '../contract.js';
import { LABEL_CLASSES } from '../label-classes.js';

/** Series Number of the engine's SEG series: beside the SR (9901) and the PDF. */
export const SEG_SERIES_NUMBER = 9903;

export async function writeLabelMap(path: string, volume: Volume, classMap: Uint8Array, seriesDir: string, engine: Pick<EngineDescriptor, 'id' | 'name' | 'version' | 'vendor'>, now: Date): Promise<void> {
  const s = volume.summary;
  const study = await readStudyContextFrom(seriesDir, {
    patientName: '', patientId: '', patientBirthDate: '', patientSex: '', studyInstanceUid: s.studyInstanceUid,
    studyDate: '', studyTime: '', referringPhysicianName: '', studyId: '', accessionNumber: '',
  });
  const u = (part: string) => derivedUid('ildflow', 'label-map', engine.id, engine.version, s.seriesInstanceUid, part);
  await writeSegFile(
    path,
    classMap,
    {
      study,
      seriesInstanceUid: s.seriesInstanceUid,
      frameOfReferenceUid: volume.frameOfReferenceUid,
      rows: volume.height,
      columns: volume.width,
      pixelSpacingMm: volume.pixelSpacingMm,
      sliceThicknessMm: volume.sliceThicknessMm,
      spacingBetweenSlicesMm: volume.sliceSpacingMm,
      orientation: volume.orientation,
      slices: volume.sopInstanceUids.map((uid, z) => ({ sopInstanceUid: uid, sopClassUid: volume.sopClassUids[z]!, position: volume.positions[z]! })),
    },
    {
      sopInstanceUid: u('instance'),
      seriesInstanceUid: u('series'),
      seriesNumber: SEG_SERIES_NUMBER,
      dimensionOrganizationUid: u('dimensions'),
      manufacturer: engine.vendor,
      modelName: engine.name,
      softwareVersions: engine.version,
      algorithmName: `${engine.name} ${engine.version}`,
      now,
    },
    LABEL_CLASSES,
  );
}
