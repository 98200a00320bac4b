/**
 * Disk watermarks (issue 17): with ILDFLOW_DISK_MIN_FREE above the free space a new case does not retrieve,
 * says why on its timeline, /readyz and /metrics say so; restarted with a normal value it goes on to review
 * by itself. A transfer that reaches the watermark mid-way is discarded, never committed half, and retried.
 * Real API and workers on the real Redis and a folder PACS; only the mid-way test reads a free-space figure
 * of its own (named below), since the test cannot fill a real disk.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArtifactStore } from '../../shared/artifacts/artifact-store.js';
import { loadConfig } from '../../shared/config.js';
import { createEngine } from '../../shared/engines/create-engine.js';
import { createLogger } from '../../shared/logger.js';
import { createImageSource } from '../../shared/pacs/create-source.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { createPipeline } from '../../shared/queues.js';
import { connectRedis, type Redis } from '../../shared/redis.js';
import { createCaseStore } from '../../shared/store/case-store.js';
import { openRuntime, type Runtime } from '../../services/cli/runtime.js';
import { retrieve } from '../../workers/retrieve/retrieve.worker.js';
import type { WorkerDeps } from '../../workers/deps.js';
import { deleteKeys, newPrefix, TEST_REDIS_URL } from '../helpers/redis-keys.js';
import { TOKENS, USERS } from '../helpers/pipeline-harness.js';

const PATIENT = { id: 'MRN-DISK-4410', name: 'FARIA^LUIS', birthDate: '1955-02-11', sex: 'M' };
const ORDER = (id: string) => ({
  order: { id, orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
  patient: PATIENT,
  coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
});

let work: string;
let redis: Redis;
let prefix: string;
const pacsDir = () => join(work, 'pacs');
const dataDir = () => join(work, 'data');

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ildflow-disk-'));
  redis = connectRedis(TEST_REDIS_URL);
  prefix = newPrefix('disk');
  await generatePhantom({
    dir: join(pacsDir(), 'study'), pattern: 'uip', seed: 7, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5,
    patient: { id: PATIENT.id, name: PATIENT.name, birthDate: '19550211', sex: 'M' },
    study: { accessionNumber: 'ACC-DISK-1', studyDate: '20261001' },
  });
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await rm(work, { recursive: true, force: true });
});

const config = (minFree: string) =>
  loadConfig({
    REDIS_URL: TEST_REDIS_URL,
    ILDFLOW_REDIS_PREFIX: prefix,
    ILDFLOW_PORT: '0',
    ILDFLOW_DATA_DIR: dataDir(),
    ILDFLOW_PACS: pathToFileURL(pacsDir()).href,
    ILDFLOW_USERS_FILE: '(in memory)',
    ILDFLOW_DISK_MIN_FREE: minFree,
    ILDFLOW_DISK_RECHECK_SECONDS: '1',
    ILDFLOW_RECONCILE_INTERVAL_SECONDS: '1',
  });

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('disk watermarks', () => {
  it('puts off a retrieval below the watermark, says why, and goes on to review by itself once restarted with a normal value', async () => {
    let logs = '';
    const sink = new Writable({ write: (c, _e, cb) => ((logs += String(c)), cb()) });
    let rt: Runtime = await openRuntime(config('100%'), { roles: ['api', 'worker'], users: USERS, logger: createLogger({ level: 'info', destination: sink }) });
    try {
      const get = (p: string, token: string | null = TOKENS.admin) => fetch(rt.url + p, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      const created = await fetch(`${rt.url}/v1/cases`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.orderer}`, 'content-type': 'application/json' }, body: JSON.stringify(ORDER('ORD-DISK-1')) });
      const id = ((await created.json()) as { id: string }).id;
      const waiting = await until('the case to say it waits for disk space', async () => {
        const c = (await (await get(`/v1/cases/${id}`)).json()) as { status: string; timeline: { reason: string }[] };
        return c.timeline.some((t) => t.reason.startsWith('waiting for disk space')) && c;
      });
      expect(waiting.status).toBe('retrieving');
      expect(waiting.timeline.find((t) => t.reason.startsWith('waiting for disk space'))!.reason).toMatch(/GB free on the data volume, [\d.]+ GB required \(ILDFLOW_DISK_MIN_FREE\)/);

      const ready = await get('/readyz', null);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { status: string; checks: Record<string, string>; disk: { freeBytes: number; requiredBytes: number } };
      expect(body).toMatchObject({ status: 'degraded', checks: { redis: 'ok', pacs: 'ok', disk: 'low' } });
      expect(body.disk.freeBytes).toBeLessThan(body.disk.requiredBytes);
      const metrics = await (await get('/metrics', null)).text();
      expect(Number(/^ildflow_retrieval_disk_waits_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
      expect(metrics).toMatch(/^ildflow_disk_required_free_bytes \d+/m);
      expect(logs).toMatch(/"level":40[^\n]*"msg":"retrieval waits for disk space"/);

      // Re-checked every second without starting: no series, no spool, one line on the timeline.
      await new Promise((r) => setTimeout(r, 2500));
      const still = (await (await get(`/v1/cases/${id}`)).json()) as { status: string; timeline: { reason: string }[] };
      expect(still.status).toBe('retrieving');
      expect(still.timeline.filter((t) => t.reason.startsWith('waiting for disk space'))).toHaveLength(1);
      expect(await readdir(join(dataDir(), 'cases', id)).catch(() => [])).toEqual([]);

      // Restarted with a normal watermark: nobody touches the case, and it reaches review.
      await rt.close();
      rt = await openRuntime(config('1GB'), { roles: ['api', 'worker'], users: USERS, logger: createLogger({ level: 'silent' }) });
      await until('the case to reach review', async () => ((await (await get(`/v1/cases/${id}`)).json()) as { status: string }).status === 'awaiting_review', 90_000);
      expect((await readdir(join(dataDir(), 'cases', id, 'series'))).length).toBe(64);
      expect(((await (await get('/readyz', null)).json()) as { checks: Record<string, string> }).checks.disk).toBe('ok');
    } finally {
      await rt.close();
    }
  });

  it('discards a transfer that reaches the watermark mid-way, and retrieves it whole on the next check', async () => {
    const cfg = config('1GB');
    const store = createCaseStore(redis, prefix);
    const pipeline = createPipeline(redis, prefix);
    const artifacts = createArtifactStore(dataDir());
    // A free-space figure of the test's own (a fake: a real disk cannot be filled here): plenty until the
    // transfer has written its third instance, then below the watermark — while `full` says so.
    let full = true;
    const spoolFiles = async (caseId: string) => {
      const dirs = (await readdir(join(dataDir(), 'cases', caseId)).catch(() => [] as string[])).filter((d) => d.startsWith('spool-'));
      let n = 0;
      for (const d of dirs) n += (await readdir(join(dataDir(), 'cases', caseId, d)).catch(() => [])).length;
      return n;
    };
    const { case: c } = await store.create(ORDER(`ORD-DISK-${randomUUID().slice(0, 8)}`) as never, { actor: 'u-ord', advisories: [] });
    const deps = {
      config: cfg,
      redis,
      store,
      pipeline,
      artifacts,
      source: createImageSource(cfg.ILDFLOW_PACS!, { maxInstanceBytes: cfg.ILDFLOW_MAX_INSTANCE_BYTES }),
      engine: createEngine('reference', { timeoutMs: 60_000, threads: 1 }),
      logger: createLogger({ level: 'silent' }),
      clock: () => new Date(),
      disk: {
        watchMs: 1,
        read: async () => ({ totalBytes: 100e9, freeBytes: full && (await spoolFiles(c.id)) >= 3 ? 0.5e9 : 50e9 }),
      },
    } as unknown as WorkerDeps;
    try {
      await retrieve({ caseId: c.id, traceId: 't-1' }, deps, new AbortController().signal);
      const waiting = await store.get(c.id);
      expect(waiting.status).toBe('retrieving');
      expect(waiting.diskWait).toMatchObject({ checks: 1, reason: expect.stringContaining('0.5 GB free on the data volume') });
      expect(waiting.source).toBeUndefined();
      expect(await readdir(join(dataDir(), 'cases', c.id))).toEqual([]); // the partial spool is gone, nothing committed
      expect(await pipeline.queues.retrieve.getJob(pipeline.plannedId({ queue: 'retrieve', caseId: c.id, attempt: 0, tag: 'disk-1' }))).toBeTruthy();

      full = false; // space is back: the delayed re-check job retrieves the whole series
      await retrieve({ caseId: c.id, traceId: 't-2' }, deps, new AbortController().signal);
      const done = await store.get(c.id);
      expect(done.status).toBe('analyzing');
      expect(done.diskWait).toBeUndefined();
      expect((await readdir(join(dataDir(), 'cases', c.id, 'series'))).length).toBe(64);
    } finally {
      await pipeline.queues.retrieve.obliterate({ force: true }).catch(() => {});
      await pipeline.close();
    }
  });

  it('treats a write that fails with ENOSPC mid-way as a shortage: the spool is discarded and the case waits', async () => {
    const cfg = config('1GB');
    const store = createCaseStore(redis, prefix);
    const pipeline = createPipeline(redis, prefix);
    const folder = createImageSource(cfg.ILDFLOW_PACS!, {});
    // A source whose disk fills up after a few instances (a fake of the full volume this test cannot make).
    const source = {
      ...folder,
      async retrieveSeries(study: string, series: string, dir: string, signal: AbortSignal) {
        await folder.retrieveSeries(study, series, dir, signal);
        throw Object.assign(new Error('write EIO'), { cause: Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }) });
      },
    };
    const { case: c } = await store.create(ORDER(`ORD-DISK-${randomUUID().slice(0, 8)}`) as never, { actor: 'u-ord', advisories: [] });
    const deps = {
      config: cfg, redis, store, pipeline, artifacts: createArtifactStore(dataDir()), source,
      engine: createEngine('reference', { timeoutMs: 60_000, threads: 1 }), logger: createLogger({ level: 'silent' }), clock: () => new Date(),
    } as unknown as WorkerDeps;
    try {
      await retrieve({ caseId: c.id, traceId: 't-3' }, deps, new AbortController().signal);
      const waiting = await store.get(c.id);
      expect(waiting).toMatchObject({ status: 'retrieving', diskWait: { checks: 1, reason: expect.stringContaining('a write ran out of space (ENOSPC)') } });
      expect(waiting.source).toBeUndefined();
      expect(await readdir(join(dataDir(), 'cases', c.id))).toEqual([]);
    } finally {
      await pipeline.queues.retrieve.obliterate({ force: true }).catch(() => {});
      await pipeline.close();
    }
  });
});
