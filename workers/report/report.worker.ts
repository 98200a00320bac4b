/**
 * Report: writes the case's documents to the artifact store. Two phases per case and attempt:
 * - preliminary, after analysis: the engine result and an unverified FHIR DiagnosticReport; the case then
 *   enters the review queue (`analyzing → awaiting_review`);
 * - final, after signature: the final DiagnosticReport with the physician's decision; then billing.
 * Idempotent: documents are rewritten whole under fixed names, and a case already moved on only has its
 * next job (re-)enqueued.
 */
import { buildDiagnosticReport } from '../../shared/reports/fhir-diagnostic-report.js';
import { withArtifact } from '../../shared/artifacts/artifact-store.js';
import { QUEUE, type StageJob } from '../../shared/queues.js';
import type { WorkerDeps } from '../deps.js';

const ACTOR = 'worker:report';
const FHIR_JSON = 'application/fhir+json';

export async function report(job: StageJob, deps: WorkerDeps): Promise<void> {
  const c = await deps.store.find(job.caseId);
  if (!c) return;
  const now = deps.clock();
  if (job.phase === 'final') {
    if (c.status === 'billed' || c.status === 'reversed') return;
    if (c.status !== 'signed') return; // rejected or not yet signed: no final report to bill from
    const dr = buildDiagnosticReport(c, { status: 'final', now });
    const ref = await deps.artifacts.writeArtifact(c.id, 'diagnostic-report.json', FHIR_JSON, JSON.stringify(dr, null, 2));
    await deps.store.update(c.id, ACTOR, (cur) =>
      cur.status === 'signed' ? { next: { ...cur, artifacts: withArtifact(cur.artifacts, ref) }, reason: 'final report written' } : null,
    );
    await deps.pipeline.enqueue(QUEUE.billing, { caseId: c.id, traceId: job.traceId }, c.attempt);
    return;
  }
  if (c.status !== 'analyzing' || !c.result) return;
  const dr = buildDiagnosticReport(c, { status: 'preliminary', now });
  const refs = [
    await deps.artifacts.writeArtifact(c.id, 'engine-result.json', 'application/json', JSON.stringify(c.result, null, 2)),
    await deps.artifacts.writeArtifact(c.id, 'diagnostic-report.json', FHIR_JSON, JSON.stringify(dr, null, 2)),
  ];
  await deps.store.update(c.id, ACTOR, (cur) =>
    cur.status === 'analyzing'
      ? {
          next: { ...cur, status: 'awaiting_review', artifacts: refs.reduce(withArtifact, cur.artifacts) },
          reason: `preliminary report ready (${c.result!.classification.category}); in the review queue`,
        }
      : null,
  );
}
