/**
 * Analyze: checks the spooled series against the engine's requirements, runs the engine (off the event
 * loop: the reference engine on a worker thread, the others out of process) and records its validated
 * result. One job per case and attempt; a case that already has a result only has its report job
 * (re-)enqueued. A requirement failure — checked here, or the engine declining the series — makes the case
 * `ineligible`; an engine that answers garbage fails the case without retries (EngineFailed is not
 * retryable); an engine outage, hang or crash is retried with backoff, then fails the case with the reason.
 * The engine's label map, when it writes one, is checked against the series and kept with the result, or
 * dropped with the reason recorded (shared/engines/accept-label-map.ts).
 */
import { withArtifact } from '../../shared/artifacts/artifact-store.js';
import type { LabelMapRecord } from '../../shared/domain/case.js';
import { LABEL_MAP_SCRATCH, acceptLabelMap } from '../../shared/engines/accept-label-map.js';
import { EngineResult } from '../../shared/engines/contract.js';
import { checkSeriesForEngine } from '../../shared/engines/check-series.js';
import { EngineFailed, NotEligible } from '../../shared/errors.js';
import { becomeIneligible } from '../../shared/lifecycle/index.js';
import type { StageJob } from '../../shared/queues.js';
import type { WorkerDeps } from '../deps.js';

const ACTOR = 'worker:analyze';

export async function analyze(job: StageJob, deps: WorkerDeps, signal: AbortSignal): Promise<void> {
  let c = await deps.store.find(job.caseId);
  if (!c || c.status !== 'analyzing' || !c.source) return; // moved on, cancelled or deleted: nothing to do
  if (!c.result) {
    const check = await checkSeriesForEngine(c.source.seriesDir, deps.engine.descriptor.requirements);
    if (check.reasons.length) {
      const why = `the series fails ${deps.engine.descriptor.name}'s requirements: ${check.reasons.join('; ')}`;
      await deps.store.update(c.id, ACTOR, (cur) => becomeIneligible(cur, check.reasons, why));
      return;
    }
    let raw: unknown;
    const labelMapPath = await deps.artifacts.scratchPath(c.id, LABEL_MAP_SCRATCH);
    let labelMapProblem: string | undefined;
    try {
      raw = await deps.engine.analyze(
        {
          seriesDir: c.source.seriesDir,
          studyInstanceUid: c.source.studyInstanceUid,
          seriesInstanceUid: c.source.seriesInstanceUid,
          labelMapPath,
          onLabelMapProblem: (reason) => (labelMapProblem = reason),
        },
        signal,
      );
    } catch (err) {
      // The engine itself declined the series (HTTP 422, exit code 65, or the reference engine's own
      // check): that is ineligibility with the engine's reasons, not a failure.
      if (!(err instanceof NotEligible)) throw err;
      const why = `${deps.engine.descriptor.name} declined the series: ${err.reasons.join('; ')}`;
      await deps.store.update(c.id, ACTOR, (cur) => becomeIneligible(cur, err.reasons, why));
      return;
    }
    // Every engine answer is validated (docs/design.md §5), the built-in one included.
    const parsed = EngineResult.safeParse(raw);
    if (!parsed.success)
      throw new EngineFailed(`${deps.engine.descriptor.name} answered an invalid result: ${parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const result = parsed.data;
    // The label map is checked against the series; one that does not fit is dropped, the result stands.
    const labelMap = await acceptLabelMap(c.id, labelMapPath, c.source.seriesDir, result.engine.name, deps.artifacts, labelMapProblem);
    c = await deps.store.update(c.id, ACTOR, (cur) =>
      cur.status === 'analyzing' && !cur.result
        ? {
            next: { ...cur, result, labelMap: labelMap.record, artifacts: labelMap.ref ? withArtifact(cur.artifacts, labelMap.ref) : cur.artifacts },
            reason: `${result.engine.name} ${result.engine.version}: ${result.classification.category} in ${(result.timings.durationMs / 1000).toFixed(1)} s; ${labelMapText(labelMap.record)}`,
          }
        : null,
    );
  }
  await deps.pipeline.enqueueNext(c, job.traceId); // the preliminary report
}

function labelMapText(m: LabelMapRecord): string {
  return m.status === 'stored' ? `label map with ${m.segments.length} segment(s) stored` : m.reason;
}
