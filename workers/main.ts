/**
 * Composition root of the worker side: one BullMQ worker per stage (or the ones named by
 * `ildflow start --role worker:NAME`), the sweeper, the reconciler and the spool purge. Closing stops taking jobs, lets running ones
 * finish for a bounded time, then cancels them so BullMQ hands them to another worker (docs/design.md §7).
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE, type QueueName, type StageJob } from '../shared/queues.js';
import { analyze } from './analyze/analyze.worker.js';
import { bill } from './billing/billing.worker.js';
import type { WorkerDeps } from './deps.js';
import { report } from './report/report.worker.js';
import { retrieve } from './retrieve/retrieve.worker.js';
import { createStageWorker, describeError, type StageProcessor } from './stage.js';
import { startReconciler } from './reconcile/reconcile.worker.js';
import { startSpoolPurge } from './purge-spools/purge-spools.worker.js';
import { startOutboxTrim } from './billing/trim-outbox.js';
import type { RunningTask } from './repeating.js';
import { startSweeper } from './sweeper.js';

export const STAGES: Readonly<Record<QueueName, StageProcessor>> = {
  [QUEUE.retrieve]: retrieve,
  [QUEUE.analyze]: analyze,
  [QUEUE.report]: report,
  [QUEUE.billing]: bill,
};

export type RunningWorkers = Readonly<{ workers: Worker<StageJob>[]; close(graceMs?: number): Promise<void> }>;

export function startWorkers(
  deps: WorkerDeps,
  opts: { connection: Redis; stages?: readonly QueueName[]; sweepIntervalMs?: number },
): RunningWorkers {
  const names = opts.stages ?? (Object.keys(STAGES) as QueueName[]);
  const concurrency = (n: QueueName) =>
    n === QUEUE.analyze ? deps.config.ILDFLOW_ANALYZE_CONCURRENCY : n === QUEUE.retrieve ? deps.config.ILDFLOW_RETRIEVE_CONCURRENCY : 4;
  const workers = names.map((n) =>
    createStageWorker(n, STAGES[n], deps, { connection: opts.connection, prefix: deps.config.ILDFLOW_REDIS_PREFIX, concurrency: concurrency(n) }),
  );
  const sweeper = startSweeper(deps, opts.sweepIntervalMs);
  // Every worker process takes part; each task's job scheduler hands each run to one of them (workers/repeating.ts).
  const startTask = (label: string, start: () => Promise<RunningTask>): Promise<RunningTask | null> =>
    start().catch((err: unknown) => {
      deps.logger.error({ err: describeError(err) }, `could not start ${label}`);
      return null;
    });
  const connection = { connection: opts.connection };
  const tasks = [
    startTask('the reconciler', () => startReconciler(deps, connection)),
    startTask('the spool purge', () => startSpoolPurge(deps, connection)),
    startTask('the billing outbox trim', () => startOutboxTrim(deps, connection)),
  ];
  return {
    workers,
    async close(graceMs = 30_000) {
      sweeper.stop();
      for (const t of await Promise.all(tasks)) await t?.close();
      const closing = Promise.all(workers.map((w) => w.close()));
      const timer = setTimeout(() => {
        // Past the grace period: abort running jobs; they fail this attempt and are retried elsewhere.
        for (const w of workers) w.cancelAllJobs('worker shutting down');
      }, graceMs);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
