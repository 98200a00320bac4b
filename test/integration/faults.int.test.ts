/**
 * Faults with real processes (docs/design.md §7): a worker process killed with SIGKILL in the middle of an
 * analysis, and Redis killed and restarted (AOF on) in the middle of a run. After each, the case ends
 * where it should and nothing is billed twice.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { openRuntime, type Runtime } from '../../services/cli/runtime.js';
import { TOKENS, USERS } from '../helpers/pipeline-harness.js';
import { callApi, freePort, spawnIldflow, startAofRedis, stop, until, type Proc } from '../helpers/processes.js';
import { removePrefix, newPrefix, TEST_REDIS_URL } from '../helpers/redis-keys.js';

const PATIENT = { id: 'MRN-FAULT-1', name: 'FAULT^TEST', birthDate: '1950-01-01', sex: 'F' };

const orderBody = (id: string) => ({
  order: { id, orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
  patient: PATIENT,
  coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
});

describe('faults', () => {
  let work: string;
  let pacsDir: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-faults-'));
    pacsDir = join(work, 'pacs');
    await writeFile(join(work, 'users.json'), JSON.stringify(USERS));
    // Large enough that the engine takes a while (so the kill lands mid-analysis), small enough for CI.
    await generatePhantom({
      dir: join(pacsDir, 'ct'),
      pattern: 'uip',
      seed: 3,
      rows: 256,
      columns: 256,
      slices: 200,
      sliceThicknessMm: 1.25,
      patient: { id: PATIENT.id, name: PATIENT.name, birthDate: '19500101', sex: 'F' },
      study: { accessionNumber: 'ACC-FAULT', studyDate: '20261001' },
    });
  }, 120_000);
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it('recovers an analysis whose worker process was killed (SIGKILL), and bills the case once', async () => {
    const prefix = newPrefix('fault');
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      ILDFLOW_REDIS_PREFIX: prefix,
      ILDFLOW_DATA_DIR: join(work, 'data-kill'),
      ILDFLOW_PACS: pathToFileURL(pacsDir).href,
      ILDFLOW_USERS_FILE: join(work, 'users.json'),
      ILDFLOW_JOB_LOCK_SECONDS: '3',
      ILDFLOW_LOG_LEVEL: 'info',
    };
    const api = await openRuntime(loadConfig({ ...env, ILDFLOW_PORT: '0' }), { roles: ['api'], users: USERS, logger: createLogger({ level: 'silent' }) });
    const workers: Proc[] = [];
    try {
      workers.push(spawnIldflow(['start', '--role', 'worker'], env));
      const created = await callApi(api.url!, 'POST', '/v1/cases', TOKENS.orderer, orderBody('ORD-FAULT-KILL'));
      const id = created.body.id as string;

      await until('the case to be analysing', async () => (await api.store.get(id)).status === 'analyzing', 60_000, 5);
      await workers[0]!.kill('SIGKILL');
      const atKill = await api.store.get(id);

      workers.push(spawnIldflow(['start', '--role', 'worker'], env));
      await until('the case to reach review', async () => (await api.store.get(id)).status === 'awaiting_review', 90_000);
      // The kill landed mid-analysis (the engine needs over a second here; the poll runs every 5 ms), so
      // the second process must have run the engine again from the start.
      expect(atKill.result).toBeUndefined();
      expect(workers[1]!.output()).toMatch(new RegExp(`"stage":"analyze".*"caseId":"${id}".*stage done`));

      // Kill the worker right after the signature too: the next one bills, once.
      expect((await callApi(api.url!, 'POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status).toBe(200);
      expect((await callApi(api.url!, 'POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'accept', attestation: true })).status).toBe(200);
      await workers[1]!.kill('SIGKILL');
      workers.push(spawnIldflow(['start', '--role', 'worker'], env));
      await until('the case to be billed', async () => (await api.store.get(id)).status === 'billed', 90_000);

      const timeline = await api.store.timeline(id);
      expect(timeline.filter((e) => e.to === 'awaiting_review' && e.from === 'analyzing')).toHaveLength(1);
      expect(timeline.filter((e) => e.to === 'billed')).toHaveLength(1);
      const charges = (await api.store.billingEvents(undefined, 100)).filter((e) => (e.event as { caseId: string }).caseId === id);
      expect(charges).toHaveLength(1);
    } finally {
      for (const w of workers) await stop(w.child, 'SIGKILL');
      await api.close();
      await removePrefix(prefix);
    }
  }, 240_000);

  it('loses no case when Redis (AOF on) is killed and restarted in the middle of a run', async () => {
    const port = await freePort();
    const redisDir = join(work, 'redis');
    await import('node:fs/promises').then((fs) => fs.mkdir(redisDir, { recursive: true }));
    let redis = await startAofRedis(redisDir, port);
    let runtime: Runtime | null = null;
    try {
      runtime = await openRuntime(
        loadConfig({
          REDIS_URL: `redis://127.0.0.1:${port}`,
          ILDFLOW_PORT: '0',
          ILDFLOW_DATA_DIR: join(work, 'data-redis'),
          ILDFLOW_PACS: pathToFileURL(pacsDir).href,
          ILDFLOW_USERS_FILE: '(in memory)',
        }),
        { roles: ['api', 'worker'], users: USERS, logger: createLogger({ level: 'silent' }), sweepIntervalMs: 500 },
      );
      const base = runtime.url!;
      const id = (await callApi(base, 'POST', '/v1/cases', TOKENS.orderer, orderBody('ORD-FAULT-REDIS'))).body.id as string;
      await until('review', async () => (await callApi(base, 'GET', `/v1/cases/${id}`, TOKENS.admin)).body.status === 'awaiting_review', 90_000);

      await stop(redis, 'SIGKILL');
      redis = await startAofRedis(redisDir, port);

      // ioredis and BullMQ reconnect by themselves; the case and its queue position survived the crash.
      const back = await until('the API to answer again', async () => {
        const r = await callApi(base, 'GET', `/v1/cases/${id}`, TOKENS.admin);
        return r.status === 200 ? r.body : null;
      });
      expect(back.status).toBe('awaiting_review');
      await until('the claim', async () => (await callApi(base, 'POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status === 200, 30_000, 200);
      expect((await callApi(base, 'POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'accept', attestation: true })).status).toBe(200);
      await until('billed', async () => (await callApi(base, 'GET', `/v1/cases/${id}`, TOKENS.admin)).body.status === 'billed', 60_000);
      const feed = await callApi(base, 'GET', '/v1/billing/events?limit=100', TOKENS.billing);
      expect(feed.body.events.filter((e: { event: { caseId: string } }) => e.event.caseId === id)).toHaveLength(1);
    } finally {
      await runtime?.close();
      await stop(redis, 'SIGTERM');
    }
  }, 240_000);
});
