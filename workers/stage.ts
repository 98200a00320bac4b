/**
 * What every stage worker shares: BullMQ wiring, the mapping of typed errors to retry or no retry, and
 * the case's final `failed` state once retries are exhausted (DESIGN.md §7).
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../shared/errors.js';
import type { QueueName, StageJob } from '../shared/queues.js';
import { RETRY } from '../shared/queues.js';
import type { WorkerDeps } from './deps.js';

const MAX_STALLED = 5;

/** Statuses from which DESIGN.md §4 allows `failed`; later failures are recorded without a move. */
const MAY_FAIL = new Set(['retrieving', 'analyzing']);

export type StageProcessor = (job: StageJob, deps: WorkerDeps, signal: AbortSignal) => Promise<void>;

export function createStageWorker(
  name: QueueName,
  process: StageProcessor,
  deps: WorkerDeps,
  opts: { concurrency: number; connection: Redis; prefix: string },
): Worker<StageJob> {
  const worker = new Worker<StageJob>(
    name,
    async (job: Job<StageJob>, _token?: string, signal?: AbortSignal) => {
      const started = performance.now();
      const log = deps.logger.child({ stage: name, caseId: job.data.caseId, traceId: job.data.traceId, jobId: job.id, attempt: job.attemptsMade + 1 });
      try {
        await process(job.data, deps, signal ?? new AbortController().signal);
        deps.observeStage?.(name, 'ok', (performance.now() - started) / 1000);
        log.info({ ms: Math.round(performance.now() - started) }, 'stage done');
      } catch (err) {
        deps.observeStage?.(name, 'error', (performance.now() - started) / 1000);
        log.warn({ err: describeError(err) }, 'stage failed');
        // A typed error that retrying cannot fix (bad DICOM, garbage from the engine) is not retried.
        if (err instanceof AppError && !err.retryable) throw new UnrecoverableError(err.detail);
        throw err;
      }
    },
    {
      connection: opts.connection,
      prefix: `${opts.prefix}:bull`,
      concurrency: opts.concurrency,
      // The engine runs on its own thread, so the lock is renewed while it works; a killed worker's job
      // is handed to another after lockDuration (BullMQ's stalled-job check).
      lockDuration: deps.config.ILDFLOW_JOB_LOCK_SECONDS * 1000,
      stalledInterval: (deps.config.ILDFLOW_JOB_LOCK_SECONDS * 1000) / 2,
      // A job whose worker dies this many times is failed as a likely poison job (one that itself crashes
      // the process, e.g. out of memory). Unrelated crashes seldom hit the same job five times.
      maxStalledCount: MAX_STALLED,
    },
  );

  worker.on('failed', (job, err) => {
    if (!job) return;
    const exhausted = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? RETRY[name].attempts);
    if (!exhausted) return;
    void markFailed(job.data.caseId, name, err, job.attemptsMade, deps).catch((e: unknown) =>
      deps.logger.error({ caseId: job.data.caseId, err: describeError(e) }, 'could not record the failure'),
    );
  });
  worker.on('error', (err) => deps.logger.error({ stage: name, err: describeError(err) }, 'worker error'));
  return worker;
}

/** Retries are exhausted: the case says why, and an admin can retry it (DESIGN.md §4 `failed`). */
export async function markFailed(caseId: string, stage: string, err: Error, attempts: number, deps: Pick<WorkerDeps, 'store'>): Promise<void> {
  // BullMQ's own words for a job whose worker kept dying, made plain for the admin who reads the case.
  const reason = /stalled more than allowable limit/.test(err.message)
    ? `the worker running this stage stopped ${MAX_STALLED + 1} times (crashed, ran out of memory or was killed); an admin can retry`
    : err.message;
  await deps.store.update(caseId, `worker:${stage}`, (c, now) => {
    const failure = { stage, reason, at: now.toISOString(), attempts };
    return MAY_FAIL.has(c.status)
      ? { next: { ...c, status: 'failed', failure }, reason: `${stage} failed after ${attempts} attempt(s): ${reason}` }
      : { next: { ...c, failure }, reason: `${stage} failed after ${attempts} attempt(s), needs an admin: ${reason}` };
  });
}

/** Error text for logs: message and type only — never the objects an error may carry. */
export function describeError(err: unknown): { type: string; message: string } {
  return err instanceof Error ? { type: err.name, message: err.message } : { type: typeof err, message: String(err) };
}
