/**
 * The pipeline's queues: names, job payloads and the enqueue helpers. This is the one module of shared/
 * that imports BullMQ (STYLE.md §1); the API and the workers both use it.
 *
 * Jobs carry ids only — case id and trace id — never PHI or pixel data: BullMQ stores job data in clear
 * text (DESIGN.md §2). Job ids are deterministic per case, stage and attempt, so enqueuing twice is a no-op.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

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
      // Finished jobs are kept a while for the dashboard, then trimmed; the case store is the record.
      removeOnComplete: { age: 24 * 3600, count: 5000 },
      removeOnFail: { age: 7 * 24 * 3600 },
      ...extra,
    };
  }

  /** BullMQ refuses ':' in custom ids; ours use '-' and are unique per case, stage, attempt and phase. */
  const jobId = (name: QueueName, job: StageJob, attempt: number, tag = '') =>
    [name, job.caseId, `a${attempt}`, job.phase ?? '', tag].filter(Boolean).join('-');

  async function enqueue(name: QueueName, job: StageJob, attempt: number, opts: { tag?: string; delayMs?: number } = {}) {
    await queues[name].add(name, job, options(name, jobId(name, job, attempt, opts.tag), opts.delayMs ? { delay: opts.delayMs } : {}));
  }

  return {
    queues,
    enqueue,
    jobId,
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
