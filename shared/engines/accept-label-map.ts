/**
 * After an engine answers: takes its label map, if it wrote one, into the case's artifacts — or records
 * why not (docs/design.md §5 "Label maps"). The SEG's header is read (bounded, read-seg.ts), checked against
 * the input series (label-map-check.ts) and kept only when it fits; a map that does not fit is deleted and
 * the reason recorded, and the engine's result stays valid either way.
 */
import { rm, stat } from 'node:fs/promises';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { scanSeriesDir } from '../dicom/read-instance.js';
import { readSegHeader, type SegHeader } from '../dicom/seg/read-seg.js';
import type { ArtifactRef, LabelMapRecord } from '../domain/case.js';
import { InvalidDicom } from '../errors.js';
import { DICOM_MEDIA_TYPE, REPORT_ARTIFACTS } from '../reports/report-refs.js';
import { checkLabelMap, type LabelMapFit } from './label-map-check.js';

/** Where an engine writes its label map before ildflow has checked it. */
export const LABEL_MAP_SCRATCH = 'engine-label-map.tmp';

export async function acceptLabelMap(
  caseId: string,
  scratch: string,
  seriesDir: string,
  engineName: string,
  artifacts: Pick<ArtifactStore, 'adoptArtifact'>,
  /** Why the adapter could not take the map the engine named (EngineInput.onLabelMapProblem). */
  problem?: string,
): Promise<{ record: LabelMapRecord; ref?: ArtifactRef }> {
  const exists = await stat(scratch).then((s) => s.isFile() && s.size > 0, () => false);
  if (!exists && problem) return refused(scratch, engineName, problem);
  if (!exists) return { record: { status: 'none', reason: `${engineName} returned no label map: no overlay is shown` } };
  let header: SegHeader;
  let fit: LabelMapFit;
  try {
    header = await readSegHeader(scratch);
    fit = checkLabelMap(header, (await scanSeriesDir(seriesDir)).instances.map((i) => i.header));
  } catch (err) {
    if (!(err instanceof InvalidDicom)) throw err;
    return refused(scratch, engineName, err.detail);
  }
  if (!fit.ok) return refused(scratch, engineName, fit.reason);
  const ref = await artifacts.adoptArtifact(caseId, REPORT_ARTIFACTS.labelMap, DICOM_MEDIA_TYPE, scratch);
  const { sopClassUid, sopInstanceUid, seriesInstanceUid, studyInstanceUid } = header;
  return {
    record: { status: 'stored', sopInstanceUid, segments: fit.segments },
    ref: { ...ref, dicom: { sopClassUid, sopInstanceUid, seriesInstanceUid, studyInstanceUid } },
  };
}

async function refused(scratch: string, engineName: string, reason: string): Promise<{ record: LabelMapRecord }> {
  await rm(scratch, { force: true });
  return { record: { status: 'refused', reason: `the label map from ${engineName} was refused: ${reason}` } };
}
