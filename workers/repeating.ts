/**
 * Runs a repeating task of the worker role (the reconciler, the spool purge): upserts its job scheduler
 * (shared/queues.ts `scheduleRepeating`) and takes its jobs in this process with concurrency 1, so one run
 * at a time across the deployment. A failed run is logged; the next interval tries again.
 */
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { scheduleRepeating, type RepeatingTask } from '../shared/queues.js';
import type { WorkerDeps } from './deps.js';
import { describeError } from './stage.js';

export type RunningTask = Readonly<{ close(): Promise<void> }>;

export async function startRepeating(
  task: RepeatingTask,
  run: () => Promise<void>,
  deps: Pick<WorkerDeps, 'config' | 'logger'>,
  opts: { connection: Redis; label: string },
): Promise<RunningTask> {
  const prefix = deps.config.ILDFLOW_REDIS_PREFIX;
  const queue = await scheduleRepeating(opts.connection, prefix, task);
  const worker = new Worker(task.queue, run, { connection: opts.connection, prefix: `${prefix}:bull`, concurrency: 1 });
  worker.on('error', (err) => deps.logger.error({ err: describeError(err) }, `${opts.label} error`));
  worker.on('failed', (_job, err) => deps.logger.error({ err: describeError(err) }, `${opts.label} run failed`));
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
