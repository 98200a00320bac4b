/**
 * Retrieve: finds the patient's prior chest CT, checks that the study's patient identifiers agree with the
 * order's (else the case is held `on_hold`), picks the series, spools it to the artifact store and checks it
 * is complete. Triggered by a new order, an admin retry, a PACS event (resume from `awaiting_study`), an
 * admin's reconcile (resume from `on_hold`) or the awaiting-study deadline. One job per case and attempt; idempotent: a case
 * already past retrieval only has its next job (re-)enqueued. PACS errors are retried with backoff
 * (shared/queues.ts RETRY), then the case fails with the reason; a series holding an instance ildflow cannot
 * use (InvalidDicom `unusable`: over a size cap, undecodable, a 16-frame bomb) is the same on every
 * retry, so the case is ineligible at once with the reason. Below the disk watermark a retrieval
 * does not start, and one that reaches it is discarded: the case waits for space, re-checked by a delayed
 * job (shared/lifecycle/disk-wait.ts), without using up its attempts.
 */
import { randomUUID } from 'node:crypto';
import type { Case, SourceSeries } from '../../shared/domain/case.js';
import { InvalidDicom, PacsUnavailable } from '../../shared/errors.js';
import { candidateStudies, selectSeries, type SeriesChoice } from '../../shared/pacs/select-series.js';
import type { SeriesSummary, StudySummary } from '../../shared/pacs/source.js';
import {
  becomeIneligible,
  endWaitIfDue,
  holdIfIdentifiersDiffer,
  seriesRetrieved,
  startAwaitingStudy,
  startRetrieving,
  waitForDisk,
  type HeldStudy,
} from '../../shared/lifecycle/index.js';
import { describeShortage, diskState, isNoSpace, readDisk, watchDisk, type DiskState } from '../../shared/artifacts/disk-space.js';
import type { StageJob } from '../../shared/queues.js';
import type { WorkerDeps } from '../deps.js';

const ACTOR = 'worker:retrieve';

export async function retrieve(job: StageJob, deps: WorkerDeps, signal: AbortSignal): Promise<void> {
  let c = await deps.store.find(job.caseId);
  if (!c) return; // deleted since enqueue: nothing to do, and no retry
  if (c.status === 'awaiting_study') return expireIfDue(c, deps);
  if (c.status === 'analyzing') return deps.pipeline.enqueueNext(c, job.traceId);
  if (c.status === 'queued') c = await deps.store.update(c.id, ACTOR, startRetrieving);
  if (c.status !== 'retrieving') return; // cancelled or moved on by someone else
  // Below the disk watermark nothing is retrieved: the case waits and re-checks (docs/operations.md).
  const before = await diskNow(deps);
  if (before.low) return waitForDiskSpace(c, before, deps);

  const found = await findSeries(c, deps);
  if (found.kind === 'wait') return awaitStudy(c, found.reasons, deps);
  if (found.kind === 'ineligible') {
    await deps.store.update(c.id, ACTOR, (cur) => becomeIneligible(cur, found.reasons));
    return;
  }
  const { study, series, choice } = found;
  // Two identifiers before anything is retrieved or analysed (shared/lifecycle/identity-hold.ts).
  c = await deps.store.update(c.id, ACTOR, (cur, now) => holdIfIdentifiersDiffer(cur, now, heldStudy(study)));
  if (c.status === 'on_hold') {
    deps.logger.warn({ caseId: c.id, differs: c.hold?.differs }, 'case held: the study disagrees with the order on patient identifiers');
    return;
  }
  if (c.status !== 'retrieving') return;
  const spool = await deps.artifacts.freshSpool(c.id);
  // While it streams, the volume is watched: reaching the watermark stops the transfer, never half-committed.
  const watch = watchDisk(() => readVolume(deps), deps.config.ILDFLOW_DISK_MIN_FREE, deps.disk?.watchMs ?? DISK_WATCH_MS);
  try {
    const got = await deps.source.retrieveSeries(study.studyInstanceUid, series.seriesInstanceUid, spool, AbortSignal.any([signal, watch.signal]));
    watch.stop();
    const short = watch.shortage();
    if (short) throw new DiskSpaceLow(short);
    // Completeness (docs/design.md §5): every instance the PACS counts must have arrived. A short transfer is
    // retried, never analysed; slice gaps are checked when the volume is assembled.
    if (got.files < series.instanceCount)
      throw new PacsUnavailable(`received ${got.files} of ${series.instanceCount} instances; the series may still be arriving`);
    const seriesDir = await deps.artifacts.commitSeries(c.id, spool);
    const source: SourceSeries = {
      studyInstanceUid: study.studyInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
      accessionNumber: study.accessionNumber,
      studyDate: study.studyDate,
      acquisitionDate: series.acquisitionDate ?? study.studyDate,
      modality: series.modality,
      seriesDescription: series.seriesDescription,
      sliceCount: got.files,
      sliceThicknessMm: series.sliceThicknessMm,
      convolutionKernel: series.convolutionKernel,
      selection: { chosen: choice.why, rejected: choice.rejected },
      retrievedAt: deps.clock().toISOString(),
      seriesDir,
    };
    c = await deps.store.update(c.id, ACTOR, (cur) => seriesRetrieved(cur, source, `retrieved ${got.files} images (${(got.bytes / 1e6).toFixed(1)} MB); ${choice.why}`));
  } catch (err) {
    watch.stop();
    await deps.artifacts.discard(spool);
    // The volume ran short mid-way (the watch, or a write that failed with ENOSPC): wait, then retrieve again.
    const short = err instanceof DiskSpaceLow ? err.state : watch.shortage();
    if (short) return waitForDiskSpace(c, short, deps);
    if (isNoSpace(err)) return waitForDiskSpace(c, await diskNow(deps), deps, 'a write ran out of space (ENOSPC); ');
    // No usable prior CT in this series (docs/design.md §4 `ineligible`: no charge); `damaged` is a cut transfer.
    if (err instanceof InvalidDicom && err.kind === 'unusable') {
      await deps.store.update(c.id, ACTOR, (cur) => becomeIneligible(cur, [err.detail]));
      return;
    }
    throw err;
  }
  await deps.pipeline.enqueueNext(c, job.traceId);
}

const heldStudy = (s: StudySummary): HeldStudy => ({
  studyInstanceUid: s.studyInstanceUid,
  accessionNumber: s.accessionNumber,
  patientId: s.patientId,
  patientName: s.patientName,
  birthDate: s.patientBirthDate,
});

/** How often a streaming retrieval reads the free space (one statfs call). */
const DISK_WATCH_MS = 250;

class DiskSpaceLow extends Error {
  constructor(readonly state: DiskState) {
    super(describeShortage(state));
    this.name = 'DiskSpaceLow';
  }
}

const readVolume = (deps: Pick<WorkerDeps, 'config' | 'disk'>) => (deps.disk ? deps.disk.read() : readDisk(deps.config.ILDFLOW_DATA_DIR));

async function diskNow(deps: Pick<WorkerDeps, 'config' | 'disk' | 'observeDisk'>): Promise<DiskState> {
  const state = diskState(await readVolume(deps), deps.config.ILDFLOW_DISK_MIN_FREE);
  deps.observeDisk?.(state);
  return state;
}

/** The case waits for space (shared/lifecycle/disk-wait.ts); the delayed re-check job is what nextJob names. */
async function waitForDiskSpace(c: Case, state: DiskState, deps: WorkerDeps, why = ''): Promise<void> {
  const reason = why + describeShortage(state);
  deps.logger.warn({ caseId: c.id, freeBytes: state.freeBytes, requiredBytes: state.requiredBytes }, 'retrieval waits for disk space');
  deps.observeDiskWait?.();
  const waiting = await deps.store.update(c.id, ACTOR, (cur, now) =>
    cur.status === 'retrieving' ? waitForDisk(cur, now, reason, deps.config.ILDFLOW_DISK_RECHECK_SECONDS * 1000) : null,
  );
  await deps.pipeline.enqueueNext(waiting, randomUUID());
}

type Found =
  | { kind: 'series'; study: StudySummary; series: SeriesSummary; choice: SeriesChoice }
  | { kind: 'wait'; reasons: string[] }
  | { kind: 'ineligible'; reasons: string[] };

/** The most recent prior CT study whose series meets the engine's requirements. */
async function findSeries(c: Case, deps: WorkerDeps): Promise<Found> {
  const req = deps.engine.descriptor.requirements;
  const studies = await deps.source.findStudies(
    c.requestedStudy ? { ...c.requestedStudy, patientId: undefined } : { patientId: c.patient.id },
  );
  const { candidates, reasons, namedStudyOfAnotherPatient } = candidateStudies(studies, { patientId: c.patient.id, orderedAt: c.order.orderedAt, requested: c.requestedStudy });
  const rejected: string[] = [...reasons];
  for (const study of candidates) {
    const choice = selectSeries(await deps.source.findSeries(study.studyInstanceUid), req);
    if (choice.chosen) return { kind: 'series', study, series: choice.chosen, choice };
    for (const r of choice.rejected) rejected.push(`study ${study.accessionNumber ?? study.studyInstanceUid}, series ${r.seriesInstanceUid}: ${r.reasons.join(', ')}`);
  }
  // Nothing at all yet: the study may still come (an outside CT being imported). Something there but
  // unusable, or a named study that is another patient's: waiting will not help.
  const nothingYet = candidates.length === 0 && !namedStudyOfAnotherPatient;
  return nothingYet ? { kind: 'wait', reasons: rejected.length ? rejected : ['no CT study of this patient in the PACS'] } : { kind: 'ineligible', reasons: rejected };
}

async function awaitStudy(c: Case, reasons: string[], deps: WorkerDeps): Promise<void> {
  const waitMs = deps.config.ILDFLOW_AWAIT_STUDY_HOURS * 3600_000;
  const until = new Date(deps.clock().getTime() + waitMs).toISOString();
  const waiting = await deps.store.update(c.id, ACTOR, (cur) => startAwaitingStudy(cur, until, reasons));
  // The deadline job makes the wait bounded even if no PACS event ever comes (the sweeper is a backstop).
  await deps.pipeline.enqueueNext(waiting, randomUUID());
}

async function expireIfDue(c: Case, deps: WorkerDeps): Promise<void> {
  if (!c.awaitingStudyUntil || Date.parse(c.awaitingStudyUntil) > deps.clock().getTime()) return;
  await expireAwaitingStudy(c.id, deps);
}

/** The bounded wait is over: no usable prior CT arrived. No charge (docs/design.md §4 `ineligible`). */
export async function expireAwaitingStudy(caseId: string, deps: Pick<WorkerDeps, 'store' | 'clock'>): Promise<void> {
  await deps.store.update(caseId, ACTOR, endWaitIfDue);
}

