/**
 * The case store is the record and the queues are derived from it (docs/design.md §2, docs/operations.md
 * "The reconciler"): with every process killed and every BullMQ key of the deployment deleted, the
 * reconciler re-creates the job each case's status calls for, under the job ids the pipeline uses, so a
 * signed case is billed exactly once and a case ordered while no worker ran still reaches review.
 * Real processes (`ildflow start`), real Redis.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateCaseBody } from '../../shared/domain/case.js';
import { createLogger } from '../../shared/logger.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { createPipeline } from '../../shared/queues.js';
import { connectRedis } from '../../shared/redis.js';
import { failStage, retryCase } from '../../shared/lifecycle/index.js';
import { createCaseStore } from '../../shared/store/case-store.js';
import { reconcileOnce } from '../../workers/reconcile/reconcile.worker.js';
import { TOKENS, USERS } from '../helpers/pipeline-harness.js';
import { callApi, freePort, spawnIldflow, stop, until, type Proc } from '../helpers/processes.js';
import { deleteKeys, newPrefix, scanKeys, TEST_REDIS_URL } from '../helpers/redis-keys.js';

const PATIENT = { id: 'MRN-RECON-1', name: 'RECON^RITA', birthDate: '1948-03-03', sex: 'F' };

const orderBody = (id: string) => ({
  order: { id, orderedAt: '2026-11-27T09:00:00Z', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
  patient: PATIENT,
  coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
});

describe('the reconciler re-creates lost jobs from the case store', () => {
  let work: string;
  const redis = new Redis(TEST_REDIS_URL);
  const procs: Proc[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-reconcile-'));
    await writeFile(join(work, 'users.json'), JSON.stringify(USERS));
    await generatePhantom({
      dir: join(work, 'pacs', 'ct'), pattern: 'probable_uip', seed: 7, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5,
      patient: { id: PATIENT.id, name: PATIENT.name, birthDate: '19480303', sex: 'F' },
      study: { accessionNumber: 'ACC-RECON', studyDate: '20261001' },
    });
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) await stop(p.child, 'SIGKILL');
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
    redis.disconnect();
    await rm(work, { recursive: true, force: true });
  });

  async function environment(tag: string) {
    const prefix = newPrefix(tag);
    prefixes.push(prefix);
    const port = await freePort();
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      ILDFLOW_REDIS_PREFIX: prefix,
      ILDFLOW_PORT: String(port),
      ILDFLOW_HOST: '127.0.0.1',
      ILDFLOW_DATA_DIR: join(work, `data-${tag}`),
      ILDFLOW_PACS: pathToFileURL(join(work, 'pacs')).href,
      ILDFLOW_USERS_FILE: join(work, 'users.json'),
      ILDFLOW_JOB_LOCK_SECONDS: '2',
      ILDFLOW_RECONCILE_INTERVAL_SECONDS: '1',
      ILDFLOW_LOG_LEVEL: 'info',
    };
    return { prefix, env, base: `http://127.0.0.1:${port}`, store: createCaseStore(redis, prefix) };
  }

  const start = (role: string, env: Record<string, string>) => {
    const p = spawnIldflow(['start', '--role', role], env);
    procs.push(p);
    return p;
  };
  const started = (p: Proc) => until('the process to start', async () => /ildflow started/.test(p.output()), 30_000);
  /** Every BullMQ key of the deployment: each queue, its jobs, the schedulers — as if Redis lost them. */
  const loseTheQueues = async (prefix: string) => {
    const keys = await scanKeys(redis, `${prefix}:bull`);
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    return keys.length;
  };

  it('bills a case signed just before every process was killed and the queues were lost, exactly once', async () => {
    const { prefix, env, base, store } = await environment('recon-sign');
    const api = start('api', env);
    const worker = start('worker', env);
    await Promise.all([started(api), started(worker)]);

    const id = (await callApi(base, 'POST', '/v1/cases', TOKENS.orderer, orderBody('ORD-RECON-SIGN'))).body.id as string;
    await until('the case to reach review', async () => (await store.get(id)).status === 'awaiting_review', 90_000, 50);
    expect((await callApi(base, 'POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status).toBe(200);
    const signed = await callApi(base, 'POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'accept', attestation: true });
    expect(signed.status).toBe(200);
    // Right after the signature: every process dies, and every job the signature queued is gone.
    await Promise.all([api.kill('SIGKILL'), worker.kill('SIGKILL')]);
    const atKill = (await store.get(id)).status;
    const lost = await loseTheQueues(prefix);
    console.log(`killed right after the signature: case ${atKill}; ${lost} BullMQ keys deleted`);
    expect(atKill).toBe('signed');

    const metricsPort = await freePort();
    const worker2 = start('worker', { ...env, ILDFLOW_METRICS_PORT: String(metricsPort) });
    const api2 = start('api', env);
    await Promise.all([started(worker2), started(api2)]);
    let status = atKill;
    try {
      await until('the case to be billed', async () => (status = (await store.get(id)).status) === 'billed', 60_000, 100);
    } catch (err) {
      console.log(`after the restart the case is still ${status}; charge events: ${(await store.billingEvents(undefined, 100)).length}`);
      throw err;
    }
    const charges = (await store.billingEvents(undefined, 1000)).filter((e) => (e.event as { caseId: string }).caseId === id);
    expect(charges).toHaveLength(1);
    const timeline = await store.timeline(id);
    expect(timeline.filter((e) => e.to === 'billed')).toHaveLength(1);
    expect(timeline.filter((e) => e.from === 'in_review' && e.to === 'signed')).toHaveLength(1);
    // Wait a few reconciler runs more: nothing is charged again.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await store.billingEvents(undefined, 1000)).filter((e) => (e.event as { caseId: string }).caseId === id)).toHaveLength(1);

    // The reconciler says what it did on the worker's /metrics: it re-created the final report job.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/ildflow_reconcile_jobs_recreated_total\{queue="report"\} [1-9]/);
    expect(metrics).toMatch(/# TYPE ildflow_reconcile_last_run_cases gauge/);
    expect(metrics).toMatch(/# TYPE ildflow_reconcile_run_duration_seconds histogram/);
    expect(metrics).not.toMatch(/MRN-RECON-1|RECON\^RITA/);
    await Promise.all([worker2.kill('SIGKILL'), api2.kill('SIGKILL')]);
  }, 240_000);

  it('takes a case ordered while no worker ran, whose queued job was lost, to review once workers start', async () => {
    const { prefix, env, base, store } = await environment('recon-order');
    const api = start('api', env);
    await started(api);
    const id = (await callApi(base, 'POST', '/v1/cases', TOKENS.orderer, orderBody('ORD-RECON-ORDER'))).body.id as string;
    expect((await store.get(id)).status).toBe('queued');
    await loseTheQueues(prefix);

    const metricsPort = await freePort();
    const worker = start('worker', { ...env, ILDFLOW_METRICS_PORT: String(metricsPort) });
    await started(worker);
    let status = 'queued';
    try {
      await until('the case to reach review', async () => (status = (await store.get(id)).status) === 'awaiting_review', 90_000, 100);
    } catch (err) {
      console.log(`with workers running the case is still ${status}`);
      throw err;
    }
    const timeline = await store.timeline(id);
    expect(timeline.filter((e) => e.to === 'retrieving')).toHaveLength(1);
    expect(timeline.filter((e) => e.to === 'awaiting_review')).toHaveLength(1);

    // The worker's metrics name what it re-created: the retrieve job (the stages queued the rest).
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/ildflow_reconcile_jobs_recreated_total\{queue="retrieve"\} 1\n/);
    expect(metrics).not.toMatch(/MRN-RECON-1|RECON\^RITA/);
    await Promise.all([api.kill('SIGKILL'), worker.kill('SIGKILL')]);
  }, 240_000);
});

describe('a reconciler run', () => {
  const redis = connectRedis(TEST_REDIS_URL, { name: 'reconcile-test' });
  const prefix = newPrefix('recon-run');
  const store = createCaseStore(redis, prefix);
  const pipeline = createPipeline(redis, prefix);
  const deps = { store, redis, pipeline, clock: () => new Date(), logger: createLogger({ level: 'silent' }) };
  const order = async (id: string) => (await store.create(CreateCaseBody.parse(orderBody(id)), { actor: 'u-ord', advisories: [] })).case;

  afterAll(async () => {
    await pipeline.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('reads at most its batch, reaches the rest in the next runs, and re-creates nothing that exists', async () => {
    for (let i = 0; i < 12; i++) await order(`ORD-RUN-${i}`);
    const first = await reconcileOnce(deps, { batch: 10, settleMs: 0 });
    expect(first).toMatchObject({ cases: 10, recreated: { retrieve: 10 } });
    const second = await reconcileOnce(deps, { batch: 10, settleMs: 0 });
    expect(second.cases).toBeLessThanOrEqual(10);
    expect(second.recreated).toEqual({ retrieve: 2 });
    expect(await pipeline.queues.retrieve.getJobCounts('waiting')).toEqual({ waiting: 12 });
    const third = await reconcileOnce(deps, { batch: 10, settleMs: 0 });
    expect(third.recreated).toEqual({});
    // The jobs are the pipeline's own: the same ids an order enqueues.
    const c = await order('ORD-RUN-0');
    expect(await pipeline.queues.retrieve.getJob(pipeline.jobId('retrieve', { caseId: c.id, traceId: '' }, 0))).toBeDefined();
  });

  it('leaves a case that just changed to its own enqueue', async () => {
    await order('ORD-RUN-FRESH');
    expect((await reconcileOnce(deps, { batch: 100 })).recreated).toEqual({});
  });

  it('records on the case a job that failed for good while the process that ran it died before saying so', async () => {
    const c = await order('ORD-RUN-FAIL');
    await store.transition(c.id, 'worker:retrieve', 'retrieving', 'looking for the prior chest CT');
    await pipeline.ensure({ queue: 'retrieve', caseId: c.id, attempt: 0 }, 'trace-1');
    // A worker with no 'failed' listener and no case store: the job fails, the case is not told.
    const connection = connectRedis(TEST_REDIS_URL, { name: 'reconcile-test-worker' });
    const worker = new Worker('retrieve', async (job) => {
      if (job.data.caseId === c.id) throw new UnrecoverableError('the PACS refused our AE title');
    }, { connection, prefix: `${prefix}:bull` });
    const id = pipeline.jobId('retrieve', { caseId: c.id, traceId: '' }, 0);
    await until('the job to fail', async () => (await (await pipeline.queues.retrieve.getJob(id))?.getState()) === 'failed', 10_000);
    await worker.close();
    connection.disconnect();
    expect((await store.get(c.id)).status).toBe('retrieving');

    const run = await reconcileOnce(deps, { batch: 100, settleMs: 0 });
    expect(run.failuresRecorded).toBe(1);
    const after = await store.get(c.id);
    expect(after.status).toBe('failed');
    expect(after.failure).toMatchObject({ stage: 'retrieve', reason: 'the PACS refused our AE title' });
    expect((await reconcileOnce(deps, { batch: 100, settleMs: 0 })).failuresRecorded).toBe(0);
  });

  it('leaves a signed case whose final report failed for good to an admin, then re-creates the retry’s job under its own id', async () => {
    const c = await order('ORD-RUN-SIGNED');
    for (const to of ['retrieving', 'analyzing', 'awaiting_review', 'in_review', 'signed'] as const) await store.transition(c.id, 'test', to, 'walked to signed');
    // Its final report job fails for good and the case records it (as the report worker's last attempt does).
    const report = { queue: 'report', caseId: c.id, attempt: 0, phase: 'final' } as const;
    await pipeline.ensure(report, 'trace-1');
    const connection = connectRedis(TEST_REDIS_URL, { name: 'reconcile-test-report' });
    const worker = new Worker('report', async (job) => {
      if (job.data.caseId === c.id) throw new UnrecoverableError('the PACS refused the STOW');
    }, { connection, prefix: `${prefix}:bull` });
    await until('the job to fail', async () => (await (await pipeline.queues.report.getJob(pipeline.plannedId(report)))?.getState()) === 'failed', 10_000);
    await worker.close();
    connection.disconnect();
    await store.update(c.id, 'worker:report', (cur, now) => failStage(cur, now, { stage: 'report', reason: 'the PACS refused the STOW', attempts: 5 }));
    const quiet = await reconcileOnce(deps, { batch: 100, settleMs: 0 });
    expect([quiet.recreated, quiet.failuresRecorded]).toEqual([{}, 0]); // the failed job is there: nothing to re-create

    // The admin's retry is stored but its enqueue is lost: the reconciler re-creates it, once.
    const retried = await store.update(c.id, 'u-admin', (cur, now) => retryCase(cur, { id: 'u-admin', name: 'Admin', roles: ['admin'] }, now));
    expect(retried).toMatchObject({ status: 'signed', stageRetryVersion: retried.version });
    expect((await reconcileOnce(deps, { batch: 100, settleMs: 0 })).recreated).toEqual({ report: 1 });
    expect(await pipeline.queues.report.getJob(`report-${c.id}-a0-final-retry-v${retried.version}`)).toBeDefined();
    expect((await reconcileOnce(deps, { batch: 100, settleMs: 0 })).recreated).toEqual({});
  });
});
