/**
 * API figures for `ildflow bench` (docs/design.md §8: review queue p99 under 50 ms at 100 requests/s with
 * 10,000 cases stored), and the seeding the load test shares. The cases are written straight into the
 * store's keys (the layout of shared/store/keys.ts, what CREATE_CASE and UPDATE_CASE write, review rows included), in
 * pipelined batches, because 10,000 orders through the API and the workers would take the whole bench.
 * The load comes from autocannon at a fixed overall rate; the baseline is GET /healthz at the same rate
 * against the same process in the same run (what this machine's HTTP stack costs, with no work behind it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import type { Redis } from 'ioredis';
import { hashToken, newToken } from '../../shared/auth/users.js';
import { PRIORITY_RANK, type Case, type CaseStatus, type Priority } from '../../shared/domain/case.js';
import { connectRedis } from '../../shared/redis.js';
import { caseKeys } from '../../shared/store/keys.js';
import { reviewRow } from '../../shared/store/review-row.js';

export type SeedPlan = Readonly<{ total: number; inReview: number; inReviewClaimed?: number }>;

/** Statuses of the cases outside the queue, in the proportions of a service some months old. */
const SETTLED: readonly CaseStatus[] = ['billed', 'billed', 'billed', 'billed', 'billed', 'billed', 'rejected', 'ineligible', 'failed', 'cancelled', 'queued', 'signed'];
const PRIORITIES: readonly Priority[] = ['routine', 'routine', 'routine', 'routine', 'urgent', 'stat'];

/**
 * Writes `plan.total` cases under `prefix`, `plan.inReview` of them in the review queue (the first
 * `inReviewClaimed` of those `in_review`), each a copy of `template` with its own id, order, patient and
 * time. Returns the ids of the queued-for-review cases.
 */
export async function seedCases(redis: Redis, prefix: string, template: Case, plan: SeedPlan): Promise<string[]> {
  const keys = caseKeys(prefix);
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const review: string[] = [];
  const BATCH = 500;
  for (let start = 0; start < plan.total; start += BATCH) {
    const p = redis.pipeline();
    for (let i = start; i < Math.min(plan.total, start + BATCH); i++) {
      const inReview = i < plan.inReview;
      const claimed = inReview && i < (plan.inReviewClaimed ?? 0);
      const status: CaseStatus = claimed ? 'in_review' : inReview ? 'awaiting_review' : SETTLED[i % SETTLED.length]!;
      const createdMs = t0 + i * 60_000;
      const created = new Date(createdMs).toISOString();
      const id = `seed-${String(i).padStart(6, '0')}-${prefix.slice(-8)}`.replace(/[^A-Za-z0-9-]/g, '-');
      const priority = PRIORITIES[i % PRIORITIES.length]!;
      const doc: Case = {
        ...template,
        id,
        status,
        version: 5,
        createdAt: created,
        updatedAt: created,
        order: { ...template.order, id: `ORD-SEED-${i}`, priority },
        patient: { ...template.patient, id: `MRN-SEED-${i % 4000}` },
        ...(claimed ? { claim: { userId: 'u-rad-2', userName: 'Bo Chen, MD', claimedAt: created, expiresAt: new Date(Date.now() + 3600_000).toISOString() } } : { claim: undefined }),
        ...(inReview ? { review: undefined, billing: undefined } : {}),
      };
      p.hset(keys.case(id), 'doc', JSON.stringify(doc), 'version', 5, 'status', status);
      p.set(keys.order(doc.order.id), id);
      p.zadd(keys.all, createdMs, id);
      p.zadd(keys.status(status), createdMs, id);
      p.zadd(keys.patient(doc.patient.id), createdMs, id);
      p.rpush(keys.timeline(id), JSON.stringify({ at: created, actor: 'seed', from: null, to: status, reason: 'seeded for the load test' }));
      if (inReview) {
        p.zadd(keys.review, PRIORITY_RANK[priority] * 1e13 + createdMs, id);
        p.hset(keys.reviewRows, id, JSON.stringify(reviewRow(doc)));
        review.push(id);
      }
    }
    await p.exec();
  }
  return review;
}

export type LoadFigures = Readonly<{
  requests: number;
  rate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}>;

/** GET `url` at `rate` requests/s for `seconds` (autocannon; 10 connections, coordinated omission corrected). */
export async function loadAt(url: string, opts: { rate: number; seconds: number; token?: string }): Promise<LoadFigures> {
  const r: Result = await autocannon({
    url,
    connections: 10,
    overallRate: opts.rate,
    amount: opts.rate * opts.seconds,
    timeout: 10,
    headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
  });
  return {
    requests: r.requests.total,
    rate: r.requests.total / Math.max(r.duration, 1e-3),
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])),
  };
}

const TARGET_P99_MS = 50;

/**
 * The bench section: the API as its own process (`ildflow start --role api`, as deployed), 10,000 cases
 * under a private prefix, /healthz then /v1/review/queue at 100 requests/s. Cleans its keys and files.
 */
export async function benchApi(template: Case, opts: { redisUrl: string; total?: number; inReview?: number; rate?: number; seconds?: number }): Promise<void> {
  const total = opts.total ?? 10_000;
  const inReview = opts.inReview ?? 300;
  const rate = opts.rate ?? 100;
  const seconds = opts.seconds ?? 15;
  const prefix = `bench-api-${Math.random().toString(36).slice(2, 10)}`;
  const work = await mkdtemp(join(tmpdir(), 'ildflow-bench-api-'));
  const redis = connectRedis(opts.redisUrl, { name: prefix });
  let api: ChildProcess | null = null;
  try {
    const token = newToken();
    await writeFile(
      join(work, 'users.json'),
      JSON.stringify([{ id: 'u-rad-bench', name: 'Bench Reader, MD', roles: ['radiologist'], npi: '1234567893', tokenSha256: hashToken(token) }]),
    );
    const t0 = performance.now();
    const queued = await seedCases(redis, prefix, { ...template, status: 'awaiting_review' }, { total, inReview, inReviewClaimed: Math.floor(inReview / 10) });
    console.log(`api: ${total} cases seeded (${queued.length} in the review queue) in ${((performance.now() - t0) / 1000).toFixed(2)} s`);

    const port = await freePortOf();
    api = spawn(process.execPath, [fileURLToPath(new URL('../../../bin/ildflow.js', import.meta.url)), 'start', '--role', 'api'], {
      env: {
        PATH: process.env.PATH ?? '',
        REDIS_URL: opts.redisUrl,
        ILDFLOW_REDIS_PREFIX: prefix,
        ILDFLOW_PORT: String(port),
        ILDFLOW_DATA_DIR: join(work, 'data'),
        ILDFLOW_PACS: pathToFileURL(join(work, 'pacs')).href,
        ILDFLOW_USERS_FILE: join(work, 'users.json'),
        ILDFLOW_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    api.stderr!.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`, api, () => stderr);

    // Warm-up: JIT, connection pools, Redis's page of the review index.
    await loadAt(`${base}/v1/review/queue`, { rate: 50, seconds: 2, token });
    const health = await loadAt(`${base}/healthz`, { rate, seconds });
    const queue = await loadAt(`${base}/v1/review/queue`, { rate, seconds, token });
    const line = (name: string, f: LoadFigures) =>
      `${name}: ${f.requests} requests at ${f.rate.toFixed(0)}/s, p50 ${f.p50} ms, p90 ${f.p90} ms, p99 ${f.p99} ms, max ${f.max} ms; ` +
      `errors ${f.errors + f.timeouts}, non-2xx ${f.non2xx}`;
    console.log(line(`api, baseline GET /healthz at ${rate}/s`, health));
    console.log(line(`api, GET /v1/review/queue at ${rate}/s (${total} cases, ${queued.length} in review, 200 rows per answer)`, queue));
    const ok = queue.p99 < TARGET_P99_MS && queue.errors + queue.timeouts + queue.non2xx === 0;
    console.log(
      `api, review queue p99: ${queue.p99} ms = ${(queue.p99 / Math.max(health.p99, 1)).toFixed(1)}× /healthz p99 (${health.p99} ms) ` +
        `(target p99 < ${TARGET_P99_MS} ms, no errors): ${ok ? 'MET' : 'NOT MET'}`,
    );
  } finally {
    if (api) await stopProcess(api);
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await rm(work, { recursive: true, force: true });
  }
}

/** SIGTERM, then SIGKILL after 10 s (the API's graceful shutdown, bounded). */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Removes every key under `prefix` (SCAN + DEL; never KEYS or FLUSH*: the Redis may be shared). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length) await redis.del(...found);
  } while (cursor !== '0');
}

export async function freePortOf(): Promise<number> {
  const { freePort } = await import('../../shared/pacs/orthanc-process.js');
  return freePort();
}

export async function waitForHttp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}: ${output()}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API did not answer ${url} within 30 s: ${output()}`);
}
