/**
 * The pipeline's queues: names, job payloads and the enqueue helpers. This is the one module of shared/
 * that imports BullMQ (docs/style.md §1); the API and the workers both use it.
 *
 * Jobs carry ids only — case id and trace id — never PHI or pixel data: BullMQ stores job data in clear
 * text (docs/design.md §2). Job ids are deterministic per case, stage and attempt, so enqueuing twice is a no-op.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Case } from './domain/case.js';
import { nextJob, type PlannedJob } from './lifecycle/next-job.js';

export const QUEUE = {
  retrieve: 'retrieve',
  analyze: 'analyze',
  report: 'report',
  billing: 'billing',
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

/** Why a report job runs: after analysis (unverified documents) or after signature (verified ones). */
export type ReportPhase = 'preliminary' | 'final';

export type StageJob = Readonly<{ caseId: string; traceId: string; phase?: ReportPhase }>;

/**
 * Retry policy per stage. Exponential backoff: delay × 2^(n−1) between attempts.
 * - retrieve: 6 attempts, 5 s → 5+10+20+40+80 = 155 s of PACS outage tolerated before the case fails.
 * - analyze: 3 attempts, 5 s → 15 s; an engine that answers garbage fails at once (not retried).
 * - report: 5 attempts, 2 s → 30 s.
 * - billing: 8 attempts, 2 s → 2+4+…+128 = 254 s; the charge itself is written atomically, so retries are safe.
 */
export const RETRY: Readonly<Record<QueueName, { attempts: number; delayMs: number }>> = {
  retrieve: { attempts: 6, delayMs: 5_000 },
  analyze: { attempts: 3, delayMs: 5_000 },
  report: { attempts: 5, delayMs: 2_000 },
  billing: { attempts: 8, delayMs: 2_000 },
};

export type Pipeline = ReturnType<typeof createPipeline>;

export function createPipeline(connection: ConnectionOptions, prefix: string) {
  const queues = Object.fromEntries(
    Object.values(QUEUE).map((name) => [name, new Queue<StageJob>(name, { connection, prefix: `${prefix}:bull` })]),
  ) as Record<QueueName, Queue<StageJob>>;

  function options(name: QueueName, jobId: string, extra: JobsOptions = {}): JobsOptions {
    return {
      jobId,
      attempts: RETRY[name].attempts,
      backoff: { type: 'exponential', delay: RETRY[name].delayMs },
      // Finished jobs are kept a while for the dashboard, then trimmed, by age and by count so a burst of
      // failures cannot grow Redis either; the case store is the record (a failed case says why).
      removeOnComplete: { age: 24 * 3600, count: 5000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
      ...extra,
    };
  }

  /** BullMQ refuses ':' in custom ids; ours use '-' and are unique per case, stage, attempt and phase. */
  const jobId = (name: QueueName, job: StageJob, attempt: number, tag = '') =>
    [name, job.caseId, `a${attempt}`, job.phase ?? '', tag].filter(Boolean).join('-');

  async function enqueue(name: QueueName, job: StageJob, attempt: number, opts: { tag?: string; delayMs?: number } = {}) {
    await queues[name].add(name, job, options(name, jobId(name, job, attempt, opts.tag), opts.delayMs ? { delay: opts.delayMs } : {}));
  }

  const plannedId = (p: PlannedJob) => jobId(p.queue, { caseId: p.caseId, traceId: '', phase: p.phase }, p.attempt, p.tag);

  function addPlanned(p: PlannedJob, traceId: string, now: number): Promise<void> {
    const delayMs = p.notBefore ? Math.max(0, Date.parse(p.notBefore) - now) : 0;
    return enqueue(p.queue, { caseId: p.caseId, traceId, ...(p.phase ? { phase: p.phase } : {}) }, p.attempt, { tag: p.tag, delayMs });
  }

  /**
   * Adds a planned job unless a job of its id exists. Returns 'created', or the state of the job that was
   * there ('waiting', 'active', 'completed', 'failed', …): the reconciler tells a lost job from a failed one.
   */
  async function ensure(p: PlannedJob, traceId: string, now = Date.now()): Promise<string> {
    const existing = await queues[p.queue].getJob(plannedId(p));
    if (existing) return existing.getState();
    await addPlanned(p, traceId, now);
    return 'created';
  }

  /** Enqueues the job the case's status calls for (shared/lifecycle/next-job.ts), if any. */
  async function enqueueNext(c: Case, traceId: string): Promise<void> {
    const p = nextJob(c);
    if (p) await addPlanned(p, traceId, Date.now());
  }

  return {
    queues,
    enqueue,
    enqueueNext,
    ensure,
    jobId,
    plannedId,
    async depths(): Promise<Record<QueueName, Record<string, number>>> {
      const out = {} as Record<QueueName, Record<string, number>>;
      for (const [name, q] of Object.entries(queues) as [QueueName, Queue<StageJob>][])
        out[name] = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      return out;
    },
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close()));
    },
  };
}

/** The reconciler's queue (workers/reconcile): not a stage, so not in QUEUE, the dashboard or the depth gauge. */
export const RECONCILE_QUEUE = 'reconcile';
/** The spool purge's queue (workers/purge-spools): not a stage either. */
export const PURGE_SPOOLS_QUEUE = 'purge-spools';

/** The billing outbox trim's queue (workers/billing/trim-outbox.ts), every minute. */
export const TRIM_OUTBOX_QUEUE = 'trim-outbox';

/** A repeating task of the worker role: its queue, its job scheduler's id, its interval. */
export type RepeatingTask = Readonly<{ queue: string; scheduler: string; everyMs: number }>;

export const reconcileTask = (everyMs: number): RepeatingTask => ({ queue: RECONCILE_QUEUE, scheduler: 'reconcile-cases', everyMs });
export const purgeSpoolsTask = (everyMs: number): RepeatingTask => ({ queue: PURGE_SPOOLS_QUEUE, scheduler: 'purge-spools', everyMs });
export const trimOutboxTask = (everyMs = 60_000): RepeatingTask => ({ queue: TRIM_OUTBOX_QUEUE, scheduler: 'trim-outbox', everyMs });

/**
 * A task's BullMQ job scheduler: one job every `everyMs`, taken by one of the worker processes, so one run
 * at a time across the deployment (a run is bounded and idempotent, so one that outlasts the interval and
 * meets the next is harmless). Every worker process upserts it at start-up, with its configured interval.
 */
export async function scheduleRepeating(connection: ConnectionOptions, prefix: string, task: RepeatingTask): Promise<Queue> {
  const queue = new Queue(task.queue, { connection, prefix: `${prefix}:bull` });
  await queue.upsertJobScheduler(task.scheduler, { every: task.everyMs }, {
    name: task.queue,
    data: {},
    opts: { removeOnComplete: { count: 20 }, removeOnFail: { count: 50 } },
  });
  return queue;
}
