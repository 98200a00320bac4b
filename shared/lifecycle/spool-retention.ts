/**
 * Spool retention (docs/operations.md "Spool retention"): a case's retrieved series is a copy of the
 * patient's images outside the PACS, kept only while the case can still need it — in flight, in review,
 * until its final report is written — and for ILDFLOW_SPOOL_RETENTION_HOURS after it ends; then it is
 * purged. Reports (SR, SEG, PDF, FHIR, key images) stay. Pure: the time is passed in.
 */
import type { Case, CaseStatus } from '../domain/case.js';

/**
 * The statuses in which nothing reads the series any more: billed (the final report is written and
 * stored; an addendum rewrites no images) and the ends without a charge. `failed` is among them: an
 * admin retry retrieves the series again.
 */
export const SPOOL_ENDED: ReadonlySet<CaseStatus> = new Set(['billed', 'rejected', 'ineligible', 'failed', 'cancelled', 'reversed']);

/** The case waits for its spool to be purged: it has ended, and its spool was not purged since. */
export function awaitsSpoolPurge(c: Case): boolean {
  return SPOOL_ENDED.has(c.status) && !c.spool?.purgedAt;
}

/** Records the purge on the case (and takes it out of the purge index); null when there is nothing to record. */
export function recordSpoolPurge(c: Case, now: Date, bytes: number, retentionHours: number) {
  if (!awaitsSpoolPurge(c)) return null;
  const where = c.source ? ` study ${c.source.studyInstanceUid}, series ${c.source.seriesInstanceUid}` : '';
  return {
    next: { ...c, spool: { purgedAt: now.toISOString(), bytes } },
    reason: `spooled series removed ${retentionHours} h after the case ended (${(bytes / 1e6).toFixed(1)} MB); the images are in the PACS${where ? `:${where}` : ''}`,
  };
}

/** Where a case's images are, for the API and the review page: in ildflow's spool, or only in the PACS. */
export type ImagesLocation = Readonly<{
  heldBy: 'ildflow' | 'pacs';
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  purgedAt?: string;
  note?: string;
}>;

export function imagesLocation(c: Case): ImagesLocation {
  const ids = c.source ? { studyInstanceUid: c.source.studyInstanceUid, seriesInstanceUid: c.source.seriesInstanceUid } : {};
  if (c.spool?.purgedAt)
    return { heldBy: 'pacs', ...ids, purgedAt: c.spool.purgedAt, note: 'The series was removed from ildflow after its retention period; the images are in the PACS. The reports and key images stay here.' };
  return c.source ? { heldBy: 'ildflow', ...ids } : { heldBy: 'pacs', note: 'No series was retrieved for this case.' };
}
