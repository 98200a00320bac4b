/**
 * Throughput (docs/design.md §8: 50 cases submitted at once all reach review, none lost; figures per stage).
 * Used by `ildflow bench` and by the load test (test/integration/load.int.test.ts), so the figures the
 * bench prints come from the code path the test checks. The whole flow runs for real in this process, as
 * `npm start` does: the API, every stage worker on BullMQ, a folder PACS of small eligible phantoms.
 *
 * Per stage, from BullMQ's own job records: queue wait = processedOn − timestamp (enqueued → picked up),
 * processing = finishedOn − processedOn. End to end, from each case's timeline: order accepted →
 * awaiting_review. The baseline is one case alone through the same running pipeline, in the same run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { hashToken, newToken, type User } from '../../shared/auth/users.js';
import { loadConfig } from '../../shared/config.js';
import type { Case, CaseStatus, TimelineEntry } from '../../shared/domain/case.js';
import { createLogger } from '../../shared/logger.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { QUEUE, createPipeline, type QueueName } from '../../shared/queues.js';
import { connectRedis } from '../../shared/redis.js';
import { deletePrefix } from './bench-api.js';
import { openRuntime } from './runtime.js';

export type ThroughputOptions = Readonly<{
  redisUrl: string;
  cases?: number;
  patients?: number;
  rows?: number;
  slices?: number;
  thicknessMm?: number;
  /** Run one case alone first, as the same-run baseline. */
  baseline?: boolean;
  timeoutMs?: number;
  /** Extra environment for the runtime (e.g. ILDFLOW_ANALYZE_CONCURRENCY). */
  env?: Record<string, string>;
  /** Progress lines (the bench prints them; the test keeps quiet). */
  progress?: (line: string) => void;
}>;

export type Spread = Readonly<{ n: number; p50: number; p95: number; max: number }>;
export type StageFigure = Readonly<{ stage: QueueName; jobs: number; retried: number; waitMs: Spread; processMs: Spread }>;

export type ThroughputRun = Readonly<{
  submitted: number;
  /** Distinct case ids the API answered with. */
  ids: string[];
  /** Cases the store holds under this run's prefix (the `cases` index). */
  stored: number;
  statuses: Partial<Record<CaseStatus, number>>;
  /** Cases with more or fewer than one move into each of retrieving, analyzing and awaiting_review. */
  irregular: { id: string; moves: string }[];
  stages: StageFigure[];
  endToEndMs: Spread;
  wallMs: number;
  baselineMs: number | null;
  /** A finished case (to seed the API bench with a realistic document). */
  sample: Case | null;
  /** Analyses one worker process runs at once (ILDFLOW_ANALYZE_CONCURRENCY). */
  analyzeConcurrency: number;
}>;

export async function runThroughput(opts: ThroughputOptions): Promise<ThroughputRun> {
  const cases = opts.cases ?? 50;
  const patients = opts.patients ?? 5;
  const say = opts.progress ?? (() => {});
  const prefix = `load-${Math.random().toString(36).slice(2, 10)}`;
  const work = await mkdtemp(join(tmpdir(), 'ildflow-load-'));
  const redis = connectRedis(opts.redisUrl, { name: prefix });
  const tokens = { orderer: newToken(), admin: newToken() };
  const users: User[] = [
    { id: 'u-ord', name: 'Lee Park, MD', roles: ['orderer'], tokenSha256: hashToken(tokens.orderer) },
    { id: 'u-admin', name: 'Load Admin', roles: ['admin'], tokenSha256: hashToken(tokens.admin) },
  ];
  let runtime: Awaited<ReturnType<typeof openRuntime>> | null = null;
  try {
    const t0 = performance.now();
    for (let p = 0; p < patients; p++)
      await generatePhantom({
        dir: join(work, 'pacs', `p${p}`),
        pattern: p % 2 ? 'probable_uip' : 'uip',
        seed: 100 + p,
        rows: opts.rows ?? 128,
        columns: opts.rows ?? 128,
        slices: opts.slices ?? 64,
        sliceThicknessMm: opts.thicknessMm ?? 2.5,
        patient: { id: `MRN-LOAD-${p}`, name: `LOAD^PATIENT${p}`, birthDate: '19550101', sex: p % 2 ? 'M' : 'F' },
        study: { accessionNumber: `ACC-LOAD-${p}`, studyDate: '20261001' },
      });
    say(`throughput: ${patients} patients' series written in ${secs(t0)} s`);

    const config = loadConfig(
      {
        REDIS_URL: opts.redisUrl,
        ILDFLOW_REDIS_PREFIX: prefix,
        ILDFLOW_PORT: '0',
        ILDFLOW_DATA_DIR: join(work, 'data'),
        ILDFLOW_PACS: pathToFileURL(join(work, 'pacs')).href,
        ILDFLOW_USERS_FILE: '(in memory)',
        ILDFLOW_LOG_LEVEL: 'warn',
        ...opts.env,
      },
    );
    runtime = await openRuntime(config, { roles: ['api', 'worker'], users, logger: createLogger({ level: 'warn' }) });
    const base = runtime.url!;
    const order = (n: number, tag: string) => ({
      order: {
        id: `ORD-${tag}-${n}`,
        orderedAt: '2026-11-27T09:00:00Z',
        priority: n % 10 === 0 ? 'stat' : n % 5 === 0 ? 'urgent' : 'routine',
        orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' },
        indications: ['J84.10'],
      },
      patient: { id: `MRN-LOAD-${n % patients}`, name: `LOAD^PATIENT${n % patients}`, birthDate: '1955-01-01', sex: n % patients % 2 ? 'M' : 'F' },
      coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
    });
    const submit = async (body: unknown): Promise<string> => {
      const res = await fetch(`${base}/v1/cases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.orderer}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { id?: string };
      if (res.status !== 202 || !json.id) throw new Error(`POST /v1/cases answered ${res.status}: ${JSON.stringify(json)}`);
      return json.id;
    };
    const timeoutMs = opts.timeoutMs ?? 150_000;

    let baselineMs: number | null = null;
    const baselineIds: string[] = [];
    if (opts.baseline) {
      const tb = performance.now();
      const id = await submit(order(0, 'BASELINE'));
      baselineIds.push(id);
      await waitAll(runtime.store, [id], timeoutMs);
      baselineMs = performance.now() - tb;
      say(`throughput: baseline, one case alone: order → awaiting_review in ${(baselineMs / 1000).toFixed(2)} s`);
    }

    const tw = performance.now();
    const ids = await Promise.all(Array.from({ length: cases }, (_, n) => submit(order(n, 'LOAD'))));
    say(`throughput: ${cases} orders accepted in ${secs(tw)} s`);
    const finals = await waitAll(runtime.store, ids, timeoutMs, (done) => say(`throughput: ${done}/${cases} in review after ${secs(tw)} s`));
    const wallMs = performance.now() - tw;

    const statuses: Partial<Record<CaseStatus, number>> = {};
    for (const c of finals) statuses[c.status] = (statuses[c.status] ?? 0) + 1;
    const irregular: { id: string; moves: string }[] = [];
    const e2e: number[] = [];
    for (const id of ids) {
      const tl = await runtime.store.timeline(id);
      const moves = (to: CaseStatus) => tl.filter((e: TimelineEntry) => e.to === to && e.from !== to).length;
      const counts = [moves('retrieving'), moves('analyzing'), moves('awaiting_review')];
      if (counts.some((n) => n !== 1)) irregular.push({ id, moves: counts.join('/') });
      const ready = tl.find((e) => e.to === 'awaiting_review');
      if (ready) e2e.push(Date.parse(ready.at) - Date.parse(tl[0]!.at));
    }
    const stages = await stageFigures(redis, opts.redisUrl, prefix, new Set(ids));
    const stored = await redis.zcard(runtime.store.keys.all);
    return {
      submitted: cases,
      ids: [...new Set(ids)],
      stored: stored - baselineIds.length,
      statuses,
      irregular,
      stages,
      endToEndMs: spread(e2e),
      wallMs,
      baselineMs,
      sample: finals.find((c) => c.status === 'awaiting_review') ?? null,
      analyzeConcurrency: config.ILDFLOW_ANALYZE_CONCURRENCY,
    };
  } finally {
    await runtime?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await rm(work, { recursive: true, force: true });
  }
}

const IN_REVIEW_OR_SETTLED: readonly CaseStatus[] = ['awaiting_review', 'in_review', 'failed', 'ineligible', 'cancelled', 'awaiting_study'];

/** Polls the store until every case is in review or settled elsewhere (failed, ineligible…), or in `until`; bounded. */
export async function waitAll(
  store: { find(id: string): Promise<Case | null> },
  ids: readonly string[],
  timeoutMs: number,
  onProgress?: (done: number) => void,
  until: readonly CaseStatus[] = IN_REVIEW_OR_SETTLED,
): Promise<Case[]> {
  const deadline = Date.now() + timeoutMs;
  const settled = new Set<CaseStatus>(until);
  let lastReported = -1;
  let lastReportAt = Date.now();
  for (;;) {
    const docs = await Promise.all(ids.map((id) => store.find(id)));
    const done = docs.filter((c) => c && settled.has(c.status)).length;
    if (onProgress && done !== lastReported && Date.now() - lastReportAt > 15_000) {
      onProgress(done);
      lastReported = done;
      lastReportAt = Date.now();
    }
    if (done === ids.length) return docs as Case[];
    if (Date.now() > deadline) {
      const stuck = docs.map((c, i) => `${ids[i]}: ${c?.status ?? 'missing'}`).filter((_, i) => !settled.has(docs[i]?.status as CaseStatus));
      throw new Error(`${ids.length - done} of ${ids.length} cases not settled after ${timeoutMs / 1000} s: ${stuck.slice(0, 10).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Queue wait and processing per stage, from BullMQ's records of the completed jobs of these cases. */
async function stageFigures(_redis: Redis, redisUrl: string, prefix: string, ids: ReadonlySet<string>): Promise<StageFigure[]> {
  const url = new URL(redisUrl);
  const pipeline = createPipeline({ host: url.hostname, port: Number(url.port || 6379) }, prefix);
  try {
    const out: StageFigure[] = [];
    for (const stage of [QUEUE.retrieve, QUEUE.analyze, QUEUE.report] as QueueName[]) {
      const jobs = (await pipeline.queues[stage].getJobs(['completed'], 0, -1)).filter((j) => ids.has(j.data.caseId));
      const wait: number[] = [];
      const run: number[] = [];
      let retried = 0;
      for (const j of jobs) {
        if (j.processedOn && j.finishedOn) {
          wait.push(j.processedOn - j.timestamp);
          run.push(j.finishedOn - j.processedOn);
        }
        if (j.attemptsMade > 1) retried += 1;
      }
      out.push({ stage, jobs: jobs.length, retried, waitMs: spread(wait), processMs: spread(run) });
    }
    return out;
  } finally {
    await pipeline.close();
  }
}

export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN);
  return { n: s.length, p50: at(50), p95: at(95), max: s.length ? s[s.length - 1]! : NaN };
}

/** The figures as lines: per stage, end to end, and the verdict. */
export function describeThroughput(run: ThroughputRun): string[] {
  const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`);
  const lines = run.stages.map(
    (s) =>
      `throughput, stage ${s.stage.padEnd(8)}: ${s.jobs} jobs (${s.retried} retried); queue wait p50 ${ms(s.waitMs.p50)}, p95 ${ms(s.waitMs.p95)}; ` +
      `processing p50 ${ms(s.processMs.p50)}, p95 ${ms(s.processMs.p95)}, max ${ms(s.processMs.max)}`,
  );
  lines.push(`throughput, order → awaiting_review per case: p50 ${ms(run.endToEndMs.p50)}, p95 ${ms(run.endToEndMs.p95)}, max ${ms(run.endToEndMs.max)}`);
  const inReview = run.statuses.awaiting_review ?? 0;
  const rate = (run.submitted / (run.wallMs / 1000)) * 60;
  const vsBaseline = run.baselineMs ? ` = ${(run.wallMs / run.baselineMs).toFixed(1)}× one case alone (${ms(run.baselineMs)}), ${((run.submitted * run.baselineMs) / run.wallMs).toFixed(2)}× the serial rate` : '';
  lines.push(
    `throughput, ${run.submitted} cases at once (one process, analyze concurrency ${run.analyzeConcurrency}): all in review after ${ms(run.wallMs)} ` +
      `(${rate.toFixed(0)} cases/min)${vsBaseline}`,
  );
  const lost = run.submitted - inReview;
  const ok = inReview === run.submitted && run.ids.length === run.submitted && run.stored === run.submitted && run.irregular.length === 0;
  lines.push(
    `throughput, ${inReview}/${run.submitted} reached review, ${lost} lost, ${run.ids.length} distinct cases, ${run.stored} stored, ` +
      `${run.irregular.length} with a repeated or missing stage (target: all in review, none lost or duplicated): ${ok ? 'MET' : 'NOT MET'}`,
  );
  return lines;
}

/** The bench section. Returns a finished case for the API section's seed template. */
export async function benchThroughput(redisUrl: string): Promise<Case | null> {
  const run = await runThroughput({ redisUrl, baseline: true, progress: (l) => console.log(l) });
  for (const l of describeThroughput(run)) console.log(l);
  return run.sample;
}

const secs = (since: number) => ((performance.now() - since) / 1000).toFixed(2);
