/**
 * The report worker's document writing: builds each document with the pure builders in shared/reports
 * and writes it to the artifact store under a fixed name (REPORT_ARTIFACTS), so a retry rewrites the same
 * files with the same DICOM UIDs.
 */
import type { ArtifactRef, Case } from '../../shared/domain/case.js';
import { buildDiagnosticReport } from '../../shared/reports/fhir-diagnostic-report.js';
import { keyImageName, renderKeyImages, type RenderedKeyImage } from '../../shared/reports/key-image-png.js';
import { buildEncapsulatedPdf } from '../../shared/reports/pdf/encapsulated-pdf.js';
import { buildReportPdf } from '../../shared/reports/pdf/build-report-pdf.js';
import { DICOM_MEDIA_TYPE, REPORT_ARTIFACTS } from '../../shared/reports/report-refs.js';
import { buildIldSr, type BuiltDicom } from '../../shared/reports/sr/build-ild-sr.js';
import { readStudyContext } from '../../shared/reports/study-context.js';
import type { WorkerDeps } from '../deps.js';

const FHIR_JSON = 'application/fhir+json';
type Deps = Pick<WorkerDeps, 'artifacts' | 'logger'>;

async function writeDicom(c: Case, name: string, obj: BuiltDicom, deps: Deps): Promise<ArtifactRef> {
  const ref = await deps.artifacts.writeArtifact(c.id, name, DICOM_MEDIA_TYPE, Buffer.from(obj.bytes));
  const { sopClassUid, sopInstanceUid, seriesInstanceUid, studyInstanceUid } = obj;
  return { ...ref, dicom: { sopClassUid, sopInstanceUid, seriesInstanceUid, studyInstanceUid } };
}

/** Key images from the spooled series with the engine's label map; a key image whose slice is missing is logged and left out. */
async function keyImagesOf(c: Case, deps: Deps): Promise<{ rendered: RenderedKeyImage[]; sopClasses: Map<string, string> }> {
  if (!c.result?.keyImages.length || !c.source?.seriesDir) return { rendered: [], sopClasses: new Map() };
  try {
    // The overlay is the engine's own label map, when it was stored (docs/design.md §5 "Label maps").
    const map = c.labelMap?.status === 'stored' ? { path: deps.artifacts.artifactPath(c.id, REPORT_ARTIFACTS.labelMap), segments: c.labelMap.segments } : undefined;
    const r = await renderKeyImages(c.source.seriesDir, c.result.keyImages, map);
    if (r.missing.length) deps.logger.warn({ caseId: c.id, missing: r.missing.length }, 'key images not found in the spooled series');
    return r;
  } catch (err) {
    // The spool may have been purged: the reports are still written, without pictures.
    deps.logger.warn({ caseId: c.id, err: err instanceof Error ? err.message : String(err) }, 'key images could not be rendered');
    return { rendered: [], sopClasses: new Map() };
  }
}

/** After analysis: engine result, key images, unverified SR, preliminary FHIR DiagnosticReport. */
export async function writePreliminaryDocuments(c: Case, now: Date, deps: Deps): Promise<ArtifactRef[]> {
  const w = (name: string, type: string, data: Buffer | string) => deps.artifacts.writeArtifact(c.id, name, type, data);
  const refs = [
    await w(REPORT_ARTIFACTS.engineResult, 'application/json', JSON.stringify(c.result, null, 2)),
    await w(REPORT_ARTIFACTS.fhir, FHIR_JSON, JSON.stringify(buildDiagnosticReport(c, { status: 'preliminary', now }), null, 2)),
  ];
  const { rendered, sopClasses } = await keyImagesOf(c, deps);
  for (const [i, k] of rendered.entries()) refs.push(await w(keyImageName(i + 1), 'image/png', k.png));
  const study = await readStudyContext(c, c.source?.seriesDir);
  refs.push(await writeDicom(c, REPORT_ARTIFACTS.srPreliminary, buildIldSr(c, { phase: 'preliminary', now, study, imageSopClasses: sopClasses }), deps));
  return refs;
}

/** After signature: final FHIR DiagnosticReport, verified SR, PDF and Encapsulated PDF; the PACS gets the SR, the SEG and the Encapsulated PDF. */
export async function writeFinalDocuments(c: Case, now: Date, deps: Deps): Promise<{ refs: ArtifactRef[]; pacsFiles: string[] }> {
  const w = (name: string, type: string, data: Buffer | string) => deps.artifacts.writeArtifact(c.id, name, type, data);
  const { rendered, sopClasses } = await keyImagesOf(c, deps);
  const study = await readStudyContext(c, c.source?.seriesDir);
  const sr = buildIldSr(c, { phase: 'final', now, study, imageSopClasses: sopClasses });
  const pdf = await buildReportPdf(c, { now, keyImages: rendered, institutionName: study.institutionName });
  const refs = [
    await w(REPORT_ARTIFACTS.fhir, FHIR_JSON, JSON.stringify(buildDiagnosticReport(c, { status: 'final', now }), null, 2)),
    await writeDicom(c, REPORT_ARTIFACTS.srFinal, sr, deps),
    await w(REPORT_ARTIFACTS.pdf, 'application/pdf', pdf),
    await writeDicom(c, REPORT_ARTIFACTS.pdfDicom, buildEncapsulatedPdf(c, pdf, { now, study }), deps),
  ];
  // The engine's label map (stored at analysis when it fit the series) goes to the PACS with the SR that
  // references its segments (docs/design.md §5 "Reports").
  const seg = c.labelMap?.status === 'stored' && c.artifacts.some((a) => a.name === REPORT_ARTIFACTS.labelMap) ? [REPORT_ARTIFACTS.labelMap] : [];
  return { refs, pacsFiles: [REPORT_ARTIFACTS.srFinal, ...seg, REPORT_ARTIFACTS.pdfDicom].map((n) => deps.artifacts.artifactPath(c.id, n)) };
}
