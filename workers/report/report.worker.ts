/**
 * Report: writes the case's documents to the artifact store, and the signed ones to the PACS. Two phases
 * per case and attempt:
 * - preliminary, after analysis: engine result, key images (PNG, lung window with class overlay), the
 *   unverified SR and a preliminary FHIR DiagnosticReport; the case then enters the review queue
 *   (`analyzing → awaiting_review`);
 * - final, after signature: final DiagnosticReport, verified SR, PDF and Encapsulated PDF; the SR, the
 *   engine's label map (DICOM SEG, when it was stored at analysis) and the Encapsulated PDF go to the PACS
 *   (`ImageSource.storeInstances`), then billing is enqueued, so a charge is only documented with reports
 *   the archive holds.
 * Idempotent: documents are rewritten whole under fixed names with UIDs derived from the case and attempt
 * (a re-store overwrites the same instances); a case already moved on only has its next job (re-)enqueued.
 * A PACS that refuses the objects fails the attempt and BullMQ retries with backoff.
 */
import { basename } from 'node:path';
import type { ArtifactRef } from '../../shared/domain/case.js';
import { withArtifact } from '../../shared/artifacts/artifact-store.js';
import { FINAL_PACS_OBJECTS, finalDocumentsStored, preliminaryReportReady } from '../../shared/lifecycle/index.js';
import type { StageJob } from '../../shared/queues.js';
import { REPORT_ARTIFACTS } from '../../shared/reports/report-refs.js';
import { withResultEvent } from '../../shared/ehr/result-event.js';
import type { WorkerDeps } from '../deps.js';
import { writeFinalDocuments, writePreliminaryDocuments } from './write-documents.js';

const ACTOR = 'worker:report';

export async function report(job: StageJob, deps: WorkerDeps, signal: AbortSignal = new AbortController().signal): Promise<void> {
  const c = await deps.store.find(job.caseId);
  if (!c) return;
  const now = deps.clock();
  if (job.phase === 'final') {
    if (c.status === 'billed' || c.status === 'reversed') return;
    if (c.status !== 'signed') return; // rejected or not yet signed: no final report to bill from
    if (!finalDocumentsStored(c)) await writeAndStoreFinal(job.caseId, now, deps, signal);
    await deps.pipeline.enqueueNext(await deps.store.get(c.id), job.traceId); // billing, once the PACS holds them
    return;
  }
  if (c.status !== 'analyzing' || !c.result) return;
  const refs = await writePreliminaryDocuments(c, now, deps);
  await deps.store.update(c.id, ACTOR, (cur) => preliminaryReportReady(cur, refs));
}

async function writeAndStoreFinal(caseId: string, now: Date, deps: WorkerDeps, signal: AbortSignal): Promise<void> {
  const c = await deps.store.get(caseId);
  const { refs, pacsFiles } = await writeFinalDocuments(c, now, deps);
  const sr = refs.find((r) => r.name === REPORT_ARTIFACTS.srFinal)?.dicom?.sopInstanceUid;
  const written = await deps.store.update(c.id, ACTOR, (cur) =>
    cur.status === 'signed'
      ? { next: { ...cur, artifacts: refs.reduce(withArtifact, cur.artifacts) }, reason: `final report written: verified SR ${sr}, PDF` }
      : null,
  );
  if (written.status !== 'signed') return; // rejected by an addendum meanwhile: nothing to send or bill
  await deps.source.storeInstances(pacsFiles, signal);
  const at = deps.clock().toISOString();
  const sent = new Set(pacsFiles.map((f) => basename(f)));
  const mark = (a: ArtifactRef): ArtifactRef => (FINAL_PACS_OBJECTS.includes(a.name) || sent.has(a.name) ? { ...a, storedToPacsAt: at } : a);
  // The signed result goes to the EHR's results outbox in the same step (ORU^R01, docs/ehr.md).
  const resultsOn = Boolean(deps.config.ILDFLOW_RESULTS_MLLP);
  await deps.store.update(c.id, ACTOR, (cur) => {
    if (cur.status !== 'signed') return null;
    const change = { next: { ...cur, artifacts: cur.artifacts.map(mark) }, reason: `stored to the PACS (${deps.source.kind}): verified SR${sent.has(REPORT_ARTIFACTS.labelMap) ? ', label map (SEG)' : ''} and Encapsulated PDF` };
    return resultsOn ? withResultEvent(change, 'signed') : change;
  });
}
