/**
 * The names of a case's report artifacts, and the references billing documents (docs/design.md §5 Billing:
 * "report references (SR SOP Instance UID, PDF SHA-256)"). The report worker writes these names; the
 * billing worker passes `reportRefsOf(case)` to `buildChargeEvent(…, { reports })`.
 */
import type { ArtifactRef, Case } from '../domain/case.js';

export const REPORT_ARTIFACTS = {
  engineResult: 'engine-result.json',
  fhir: 'diagnostic-report.json',
  /** Unverified SR, written after analysis; kept in the artifact store (not sent to the PACS). */
  srPreliminary: 'sr-preliminary.dcm',
  /** Verified SR, written after signature and stored to the PACS. */
  srFinal: 'sr-final.dcm',
  pdf: 'report.pdf',
  /** The PDF as a DICOM Encapsulated PDF, stored to the PACS. */
  pdfDicom: 'report-pdf.dcm',
  /** The engine's label map (DICOM SEG), kept from analysis when it fits the series; stored to the PACS
   *  with the verified SR. */
  labelMap: 'label-map-seg.dcm',
} as const;

export const DICOM_MEDIA_TYPE = 'application/dicom';

const byName = (c: Case, name: string): ArtifactRef | undefined => c.artifacts.find((a) => a.name === name);

/** The references a charge carries: the verified SR's SOP Instance UID and the PDF's SHA-256, when written. */
export function reportRefsOf(c: Case): { srSopInstanceUid?: string; pdfSha256?: string } {
  const sr = byName(c, REPORT_ARTIFACTS.srFinal)?.dicom?.sopInstanceUid;
  const pdf = byName(c, REPORT_ARTIFACTS.pdf)?.sha256;
  return { ...(sr ? { srSopInstanceUid: sr } : {}), ...(pdf ? { pdfSha256: pdf } : {}) };
}
