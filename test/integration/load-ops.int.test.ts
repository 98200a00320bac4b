/**
 * Operations (issue #7): graceful shutdown of a real worker process (SIGTERM during an analysis finishes
 * the job or hands it back; nothing is analysed twice), the worker-only process's /metrics port, the
 * admins' queue dashboard and its session cookie, and the compose file's Orthanc webhook
 * (deploy/orthanc/webhook.lua) against a real Orthanc.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { createPipeline } from '../../shared/queues.js';
import { openRuntime, type Runtime } from '../../services/cli/runtime.js';
import { startApi, type Harness } from '../helpers/api-harness.js';
import { isOrthancInstalled, startOrthanc } from '../helpers/orthanc.js';
import { TOKENS, USERS } from '../helpers/pipeline-harness.js';
import { freePort, spawnIldflow, stop, until, type Proc } from '../helpers/processes.js';
import { removePrefix, newPrefix, TEST_REDIS_URL } from '../helpers/redis-keys.js';

const orderBody = (id: string, patientId: string) => ({
  order: { id, orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
  patient: { id: patientId, name: 'OPS^TEST', birthDate: '1950-01-01', sex: 'F' },
  coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
});

async function post(base: string, path: string, token: string, body: unknown) {
  const res = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

describe('graceful shutdown of a worker process, and its /metrics port', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-ops-'));
    await writeFile(join(work, 'users.json'), JSON.stringify(USERS));
    // Big enough that the analysis takes a moment (the SIGTERM lands during it), small enough for CI.
    await generatePhantom({
      dir: join(work, 'pacs', 'ct'), pattern: 'uip', seed: 11, rows: 256, columns: 256, slices: 128, sliceThicknessMm: 1.25,
      patient: { id: 'MRN-OPS-1', name: 'OPS^TEST', birthDate: '19500101', sex: 'F' }, study: { accessionNumber: 'ACC-OPS', studyDate: '20261001' },
    });
  }, 120_000);
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it.each([
    { grace: '30', outcome: 'finished' },
    { grace: '0', outcome: 'handed back' },
  ])('on SIGTERM during an analysis with $grace s of grace: $outcome, exits 0, and the case reaches review once', async ({ grace, outcome }) => {
    const prefix = newPrefix('ops');
    const metricsPort = await freePort();
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      ILDFLOW_REDIS_PREFIX: prefix,
      ILDFLOW_DATA_DIR: join(work, 'data'),
      ILDFLOW_PACS: pathToFileURL(join(work, 'pacs')).href,
      ILDFLOW_USERS_FILE: join(work, 'users.json'),
      ILDFLOW_LOG_LEVEL: 'info',
      ILDFLOW_HOST: '127.0.0.1',
      ILDFLOW_METRICS_PORT: String(metricsPort),
      ILDFLOW_SHUTDOWN_GRACE_SECONDS: grace,
    };
    const api = await openRuntime(loadConfig({ ...env, ILDFLOW_PORT: '0' }), { roles: ['api'], users: USERS, logger: createLogger({ level: 'silent' }) });
    const workers: Proc[] = [];
    try {
      workers.push(spawnIldflow(['start', '--role', 'worker'], env));
      const id = (await post(api.url!, '/v1/cases', TOKENS.orderer, orderBody('ORD-OPS-TERM', 'MRN-OPS-1'))).body.id as string;
      await until('the case to be analysing', async () => (await api.store.get(id)).status === 'analyzing', 90_000, 5);

      // The worker-only process serves its own metrics: the retrieve stage it just ran is there. The stage's
      // duration is observed when its handler returns, just after it moved the case on, so poll briefly.
      const retrieveOk = /ildflow_stage_duration_seconds_count\{stage="retrieve",outcome="ok"\} 1/;
      let metrics = '';
      await until('the retrieve stage in /metrics', async () => retrieveOk.test((metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())), 5_000, 5);
      expect(metrics).toMatch(retrieveOk);
      expect(metrics).toMatch(/# TYPE ildflow_stage_failures_total counter/);
      expect(metrics).not.toMatch(/MRN-OPS-1|OPS\^TEST/);

      const first = workers[0]!;
      const exited = new Promise<number | null>((r) => first.child.once('exit', (code) => r(code)));
      first.child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
      expect(code, first.output().slice(-3000)).toBe(0);
      expect(first.output()).toMatch(/shutting down: finishing running jobs/);
      expect(first.output()).toMatch(/"msg":"stopped"/);

      // Either the analysis finished inside the grace period (the result is stored, the report job waits),
      // or the job went back to the queue. Never both, never lost.
      const afterTerm = await api.store.get(id);
      const pipeline = createPipeline({ host: '127.0.0.1', port: Number(new URL(TEST_REDIS_URL).port || 6379) }, prefix);
      const analyzeJob = await pipeline.queues.analyze.getJob(pipeline.jobId('analyze', { caseId: id, traceId: '' }, 0));
      const analyzeState = await analyzeJob?.getState();
      await pipeline.close();
      const finished = afterTerm.result !== undefined;
      console.log(`SIGTERM during analysis: ${finished ? 'finished within the grace period' : `handed back (analyze job ${analyzeState})`}`);
      expect(finished ? 'finished' : 'handed back').toBe(outcome);
      if (finished) expect(analyzeState).toBe('completed');
      else expect(['waiting', 'delayed', 'prioritized']).toContain(analyzeState);

      workers.push(spawnIldflow(['start', '--role', 'worker'], { ...env, ILDFLOW_METRICS_PORT: String(await freePort()) }));
      await until('the case to reach review', async () => (await api.store.get(id)).status === 'awaiting_review', 90_000);
      const timeline = await api.store.timeline(id);
      expect(timeline.filter((e) => e.actor === 'worker:analyze' && e.from === 'analyzing' && e.to === 'analyzing')).toHaveLength(1); // one result
      expect(timeline.filter((e) => e.to === 'awaiting_review')).toHaveLength(1);
    } finally {
      for (const w of workers) await stop(w.child, 'SIGKILL');
      await api.close();
      await removePrefix(prefix);
    }
  }, 240_000);
});

describe('the queue dashboard (bull-board) for admins', () => {
  let h: Harness;
  beforeAll(async () => void (h = await startApi()));
  afterAll(async () => h.close());

  const session = async (as: 'admin' | 'radiologist') => {
    const res = await h.call('POST', '/v1/admin/dashboard-session', { as });
    return { status: res.status, cookie: res.headers.get('set-cookie') ?? '' };
  };
  const board = (path: string, cookie?: string) => fetch(`${h.baseUrl}/admin/queues${path}`, { headers: cookie ? { cookie } : {} });

  it('gives an admin a short-lived, HttpOnly, SameSite=Strict cookie scoped to the dashboard', async () => {
    const s = await session('admin');
    expect(s.status).toBe(204);
    expect(s.cookie).toMatch(/^ildflow_dashboard=[^;]+; Path=\/admin\/queues; HttpOnly; SameSite=Strict; Max-Age=900$/);
  });

  it('refuses the session to other roles (403) and the dashboard without a valid session (401)', async () => {
    expect((await session('radiologist')).status).toBe(403);
    expect((await h.call('POST', '/v1/admin/dashboard-session', {})).status).toBe(401);
    expect((await board('')).status).toBe(401);
    expect((await board('/api/queues')).status).toBe(401);
    const good = (await session('admin')).cookie.split(';')[0]!;
    const tampered = good.replace(/u-admin/, 'u-ord');
    expect((await board('/api/queues', tampered)).status).toBe(401);
    expect((await board('/api/queues', `${good.slice(0, -2)}xx`)).status).toBe(401);
  });

  it('serves the board and its queue API to a session, read-only, with a CSP that lets its own assets load', async () => {
    const cookie = (await session('admin')).cookie.split(';')[0]!;
    const page = await board('', cookie);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await page.text();
    const asset = /src="(static\/js\/[^"]+)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    expect((await board(`/${asset}`, cookie)).status).toBe(200);
    expect((await board(`/${asset}`)).status).toBe(401);

    const api = await board('/api/queues', cookie);
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['analyze', 'billing', 'report', 'retrieve']);
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true);
    const retry = await fetch(`${h.baseUrl}/admin/queues/api/queues/analyze/retry/failed`, { method: 'PUT', headers: { cookie } });
    expect(retry.status).toBeGreaterThanOrEqual(400);
  });

  it('renders in a real browser from the session cookie alone; the CSP blocks only the third-party font', async () => {
    const cookie = (await session('admin')).cookie.split(';')[0]!;
    const eq = cookie.indexOf('=');
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const ctx = await browser.newContext();
      await ctx.addCookies([{ name: cookie.slice(0, eq), value: cookie.slice(eq + 1), url: `${h.baseUrl}/admin/queues` }]);
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      page.on('pageerror', (e) => void errors.push(String(e)));
      await page.goto(`${h.baseUrl}/admin/queues`);
      await page.getByText('retrieve').first().waitFor({ timeout: 20_000 });
      const text = await page.locator('body').innerText();
      for (const q of ['retrieve', 'analyze', 'report', 'billing']) expect(text).toContain(q);
      expect(errors.filter((e) => !/fonts\.googleapis\.com/.test(e))).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('ends the session after 15 minutes', async () => {
    const cookie = (await session('admin')).cookie.split(';')[0]!;
    expect((await board('/api/queues', cookie)).status).toBe(200);
    h.advance(15 * 60 * 1000 + 1000);
    expect((await board('/api/queues', cookie)).status).toBe(401);
  });
});

describe.skipIf(!isOrthancInstalled())("the compose file's Orthanc webhook (deploy/orthanc/webhook.lua)", () => {
  it('resumes a case awaiting its study when Orthanc reports the study stable', async () => {
    const work = await mkdtemp(join(tmpdir(), 'ildflow-ops-lua-'));
    const prefix = newPrefix('ops-lua');
    const httpPort = await freePort();
    let runtime: Runtime | null = null;
    let orthanc: Awaited<ReturnType<typeof startOrthanc>> | null = null;
    try {
      runtime = await openRuntime(
        loadConfig({
          REDIS_URL: TEST_REDIS_URL,
          ILDFLOW_REDIS_PREFIX: prefix,
          ILDFLOW_PORT: '0',
          ILDFLOW_DATA_DIR: join(work, 'data'),
          ILDFLOW_PACS: `http://127.0.0.1:${httpPort}/dicom-web`,
          ILDFLOW_PACS_AUTH: 'basic:orch:orch-secret',
          ILDFLOW_USERS_FILE: '(in memory)',
        }),
        { roles: ['api', 'worker'], users: USERS, logger: createLogger({ level: 'silent' }), sweepIntervalMs: 500 },
      );
      // The script reads these from Orthanc's environment, as the compose file sets them.
      process.env.ILDFLOW_API_URL = runtime.url!;
      process.env.ILDFLOW_PACS_TOKEN = TOKENS.pacs;
      orthanc = await startOrthanc({ httpPort, lua: await readFile(new URL('../../deploy/orthanc/webhook.lua', import.meta.url), 'utf8'), stableAgeSeconds: 1 });

      const id = (await post(runtime.url!, '/v1/cases', TOKENS.orderer, orderBody('ORD-OPS-LUA', 'MRN-OPS-LUA'))).body.id as string;
      await until('the case to wait for its study', async () => (await runtime!.store.get(id)).status === 'awaiting_study', 60_000);

      const ct = await generatePhantom({
        dir: join(work, 'ct'), pattern: 'uip', seed: 5, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5,
        patient: { id: 'MRN-OPS-LUA', name: 'OPS^TEST', birthDate: '19500101', sex: 'F' }, study: { accessionNumber: 'ACC-OPS-LUA', studyDate: '20261001' },
      });
      orthanc.storescu(ct.files);
      // Only the webhook can resume it here: the /changes poller is off (no ILDFLOW_ORTHANC_URL).
      await until('the case to reach review', async () => (await runtime!.store.get(id)).status === 'awaiting_review', 90_000, 200);
      const timeline = await runtime.store.timeline(id);
      expect(timeline.some((e) => e.from === 'awaiting_study' && e.to === 'retrieving')).toBe(true);
    } finally {
      delete process.env.ILDFLOW_API_URL;
      delete process.env.ILDFLOW_PACS_TOKEN;
      await orthanc?.close();
      await runtime?.close();
      await removePrefix(prefix);
      await rm(work, { recursive: true, force: true });
    }
  }, 180_000);
});
