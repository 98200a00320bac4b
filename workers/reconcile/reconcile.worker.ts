/**
 * Reconcile: the case store is the record and the queues are derived from it (docs/design.md §2). Triggered by a
 * BullMQ job scheduler (shared/queues.ts `scheduleRepeating`, workers/repeating.ts) every ILDFLOW_RECONCILE_INTERVAL_SECONDS, so
 * one worker process of the deployment runs it at a time. Each run reads at most ILDFLOW_RECONCILE_BATCH cases
 * in the statuses that wait for a stage job, round-robin over runs, and for each one asks `nextJob` which job
 * it calls for: a missing job (a crash between a state change and its enqueue, a lost queue) is re-created
 * under the same deterministic id, so a stage never runs twice; a job that failed for good without the case
 * saying so (the process died before recording it) is recorded on the case. Idempotent: a repeated or
 * overlapping run re-creates nothing that exists.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Case, CaseStatus } from '../../shared/domain/case.js';
import { failStage, nextJob, STATUSES_WITH_JOBS } from '../../shared/lifecycle/index.js';
import { reconcileTask, type Pipeline, type QueueName } from '../../shared/queues.js';
import type { ReconcileRunSummary } from '../../shared/metrics.js';
import type { WorkerDeps } from '../deps.js';
import { STALLED_REASON, stalledOut } from '../stage.js';
import { startRepeating, type RunningTask } from '../repeating.js';

const ACTOR = 'worker:reconcile';

/**
 * A case changed this recently may have its enqueue still in flight (the API signs, then enqueues): it is
 * left to the next run, so the reconciler does not race the request and count a job it did not re-create.
 */
const SETTLE_MS = 5_000;

export type ReconcileRun = ReconcileRunSummary & Readonly<{ recreated: Partial<Record<QueueName, number>> }>;

export type ReconcileDeps = Pick<WorkerDeps, 'store' | 'redis' | 'clock' | 'logger'> & Readonly<{ pipeline: Pick<Pipeline, 'ensure' | 'queues' | 'plannedId'> }>;

export async function reconcileOnce(deps: ReconcileDeps, opts: { batch: number; settleMs?: number }): Promise<ReconcileRun> {
  const started = performance.now();
  const settleMs = opts.settleMs ?? SETTLE_MS;
  const recreated: Partial<Record<QueueName, number>> = {};
  let cases = 0;
  let failuresRecorded = 0;
  const sizes = await Promise.all(STATUSES_WITH_JOBS.map((s) => deps.redis.zcard(deps.store.keys.status(s))));
  const shares = shareBatch(opts.batch, sizes);
  for (const [i, status] of STATUSES_WITH_JOBS.entries()) {
    if (!shares[i]) continue;
    for (const id of await nextIds(deps, status, shares[i]!)) {
      cases++;
      const c = await deps.store.find(id);
      if (!c || c.status !== status || deps.clock().getTime() - Date.parse(c.updatedAt) < settleMs) continue;
      const { outcome, queue } = await reconcileCase(c, deps);
      if (outcome === 'created' && queue) recreated[queue] = (recreated[queue] ?? 0) + 1;
      if (outcome === 'failure-recorded') failuresRecorded++;
    }
  }
  return { cases, recreated, failuresRecorded, seconds: (performance.now() - started) / 1000 };
}

type Outcome = Readonly<{ outcome: 'created' | 'failure-recorded' | 'present' | 'none'; queue?: QueueName }>;

async function reconcileCase(c: Case, deps: ReconcileDeps): Promise<Outcome> {
  const planned = nextJob(c);
  if (!planned) return { outcome: 'none' };
  const { queue } = planned;
  const state = await deps.pipeline.ensure(planned, randomUUID(), deps.clock().getTime());
  if (state === 'created') {
    deps.logger.info({ caseId: c.id, status: c.status, queue: planned.queue, jobId: deps.pipeline.plannedId(planned) }, 'reconciler re-created a missing job');
    return { outcome: 'created', queue };
  }
  if (state !== 'failed' || c.failure?.stage === queue) return { outcome: 'present', queue };
  // The job failed for good, but the process died before the case recorded it.
  const job = await deps.pipeline.queues[planned.queue].getJob(deps.pipeline.plannedId(planned));
  const reason = job && stalledOut(job) ? STALLED_REASON : (job?.failedReason ?? 'the job failed');
  const after = await deps.store.update(c.id, ACTOR, (cur, now) =>
    cur.status === c.status ? failStage(cur, now, { stage: planned.queue, reason, attempts: job?.attemptsMade ?? 0 }) : null,
  );
  return { outcome: after.version !== c.version ? 'failure-recorded' : 'present', queue };
}

/**
 * How many cases of each status one run reads: the batch shared evenly, a status with fewer cases than its
 * share leaving the rest to the others (so a backlog in one status never hides a lost job in another).
 */
export function shareBatch(batch: number, sizes: readonly number[]): number[] {
  const shares = sizes.map(() => 0);
  let left = batch;
  const open = sizes.map((n, i) => i).filter((i) => sizes[i]! > 0).sort((a, b) => sizes[a]! - sizes[b]!);
  for (const [k, i] of open.entries()) {
    const share = Math.min(sizes[i]!, Math.floor(left / (open.length - k)));
    shares[i] = share;
    left -= share;
  }
  return shares;
}

/** The next `count` ids of a status index, from where the previous run stopped (wrapping at the end). */
async function nextIds(deps: Pick<ReconcileDeps, 'redis' | 'store'>, status: CaseStatus, count: number): Promise<string[]> {
  const cursorKey = deps.store.keys.reconcileOffsets;
  let offset = Number((await deps.redis.hget(cursorKey, status)) ?? 0);
  let ids = await deps.redis.zrange(deps.store.keys.status(status), String(offset), String(offset + count - 1));
  if (ids.length === 0 && offset > 0) ids = await deps.redis.zrange(deps.store.keys.status(status), String((offset = 0)), String(count - 1));
  await deps.redis.hset(cursorKey, status, String(ids.length < count ? 0 : offset + ids.length));
  return ids;
}

export type RunningReconciler = RunningTask;

/** Upserts the scheduler and takes its jobs in this process (concurrency 1). */
export function startReconciler(
  deps: ReconcileDeps & Pick<WorkerDeps, 'config'> & Readonly<{ observeReconcile?: (run: ReconcileRun) => void }>,
  opts: { connection: Redis },
): Promise<RunningReconciler> {
  const run = async () => {
    const r = await reconcileOnce(deps, { batch: deps.config.ILDFLOW_RECONCILE_BATCH });
    deps.observeReconcile?.(r);
    if (Object.keys(r.recreated).length || r.failuresRecorded) deps.logger.warn({ ...r }, 'reconciler repaired the queues');
  };
  return startRepeating(reconcileTask(deps.config.ILDFLOW_RECONCILE_INTERVAL_SECONDS * 1000), run, deps, { connection: opts.connection, label: 'reconciler' });
}
