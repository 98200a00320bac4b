/**
 * What every stage worker shares: BullMQ wiring, the mapping of typed errors to retry or no retry, and
 * the case's final `failed` state once retries are exhausted (docs/design.md §7).
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../shared/errors.js';
import { failStage } from '../shared/lifecycle/index.js';
import type { QueueName, StageJob } from '../shared/queues.js';
import { RETRY } from '../shared/queues.js';
import type { WorkerDeps } from './deps.js';

const MAX_STALLED = 5;


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
        const final = err instanceof AppError && !err.retryable;
        // The last attempt records the failure on the case before the job fails, in the job's own time: a
        // crash in between leaves the job active (handed back once its lock runs out), never a failed job
        // beside a case that does not say so. The 'failed' listener and the reconciler are the backstops.
        if (final || job.attemptsMade + 1 >= (job.opts.attempts ?? RETRY[name].attempts))
          await markFailed(job.data.caseId, name, err instanceof Error ? err : new Error(String(err)), job.attemptsMade + 1, deps).catch((e: unknown) =>
            log.error({ err: describeError(e) }, 'could not record the failure'),
          );
        if (final) throw new UnrecoverableError(err.detail);
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
    void markFailed(job.data.caseId, name, err, job.attemptsMade, deps, { stalled: stalledOut(job) }).catch((e: unknown) =>
      deps.logger.error({ caseId: job.data.caseId, err: describeError(e) }, 'could not record the failure'),
    );
  });
  worker.on('error', (err) => deps.logger.error({ stage: name, err: describeError(err) }, 'worker error'));
  return worker;
}

/** The job was failed because its worker kept dying (BullMQ's stalled-job limit), not by an error it threw. */
export function stalledOut(job: Pick<Job, 'stalledCounter'>): boolean {
  return job.stalledCounter > MAX_STALLED;
}

/** What the case says when a stage's worker kept dying: BullMQ's own words, made plain for the admin. */
export const STALLED_REASON = `the worker running this stage stopped ${MAX_STALLED + 1} times (crashed, ran out of memory or was killed); an admin can retry`;

/** Retries are exhausted: the case says why, and an admin can retry it (docs/design.md §4 `failed`). */
export async function markFailed(
  caseId: string,
  stage: string,
  err: Error,
  attempts: number,
  deps: Pick<WorkerDeps, 'store'>,
  opts: { stalled?: boolean } = {},
): Promise<void> {
  const reason = opts.stalled ? STALLED_REASON : err.message;
  await deps.store.update(caseId, `worker:${stage}`, (c, now) => failStage(c, now, { stage, reason, attempts }));
}

/** Error text for logs: message and type only — never the objects an error may carry. */
export function describeError(err: unknown): { type: string; message: string } {
  return err instanceof Error ? { type: err.name, message: err.message } : { type: typeof err, message: String(err) };
}
