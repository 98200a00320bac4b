/**
 * Data lifecycle (issue 17; docs/operations.md "What Redis keeps", "Spool retention"): N cases through the
 * whole flow — ordered, analysed, signed, billed — with a 0-hour spool retention, then what each finished
 * case leaves behind: its bytes on disk (the reports only, once the purge has run) and its bytes in Redis
 * (MEMORY USAGE of every key of the run, by kind), divided by N. The API and every worker run for real in
 * this process on a folder PACS, as `npm start` does.
 */
import { readdir, stat } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hashToken, newToken, type User } from '../../shared/auth/users.js';
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { connectRedis } from '../../shared/redis.js';
import { deletePrefix } from './bench-api.js';
import { waitAll } from './bench-throughput.js';
import { openRuntime } from './runtime.js';

const PATIENTS = 5;
const PURGE_INTERVAL_S = 2;

export async function benchLifecycle(redisUrl: string, cases = 200): Promise<void> {
  const prefix = `life-${Math.random().toString(36).slice(2, 10)}`;
  const work = await mkdtemp(join(tmpdir(), 'ildflow-life-'));
  const redis = connectRedis(redisUrl, { name: prefix });
  const tokens = { orderer: newToken(), radiologist: newToken() };
  const users: User[] = [
    { id: 'u-ord', name: 'Lee Park, MD', roles: ['orderer'], tokenSha256: hashToken(tokens.orderer) },
    { id: 'u-rad-1', name: 'Ada Reyes, MD', roles: ['radiologist'], npi: '1234567893', tokenSha256: hashToken(tokens.radiologist) },
  ];
  let runtime: Awaited<ReturnType<typeof openRuntime>> | null = null;
  try {
    for (let p = 0; p < PATIENTS; p++)
      await generatePhantom({
        dir: join(work, 'pacs', `p${p}`), pattern: 'uip', seed: 200 + p, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5,
        patient: { id: `MRN-LIFE-${p}`, name: `LIFE^PATIENT${p}`, birthDate: '19550101', sex: 'F' },
        study: { accessionNumber: `ACC-LIFE-${p}`, studyDate: '20261001' },
      });
    const dataDir = join(work, 'data');
    const config = loadConfig({
      REDIS_URL: redisUrl, ILDFLOW_REDIS_PREFIX: prefix, ILDFLOW_PORT: '0', ILDFLOW_DATA_DIR: dataDir,
      ILDFLOW_PACS: pathToFileURL(join(work, 'pacs')).href, ILDFLOW_USERS_FILE: '(in memory)', ILDFLOW_LOG_LEVEL: 'warn',
      ILDFLOW_SPOOL_RETENTION_HOURS: '0', ILDFLOW_SPOOL_PURGE_INTERVAL_SECONDS: String(PURGE_INTERVAL_S),
    });
    runtime = await openRuntime(config, { roles: ['api', 'worker'], users, logger: createLogger({ level: 'warn' }) });
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await fetch(runtime!.url + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = (await res.json()) as { id?: string };
      if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
      return json;
    };
    const t0 = performance.now();
    const ids: string[] = [];
    for (let n = 0; n < cases; n++)
      ids.push((await call('POST', '/v1/cases', tokens.orderer, {
        order: { id: `ORD-LIFE-${n}`, orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
        patient: { id: `MRN-LIFE-${n % PATIENTS}`, name: `LIFE^PATIENT${n % PATIENTS}`, birthDate: '1955-01-01', sex: 'F' },
        coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
      })).id!);
    const progress = (what: string) => (done: number) => console.log(`lifecycle: ${done}/${cases} ${what} after ${secs(t0)} s`);
    await waitAll(runtime.store, ids, 1800_000, progress('in review'));
    for (const id of ids) {
      await call('POST', `/v1/cases/${id}/claim`, tokens.radiologist, {});
      await call('POST', `/v1/cases/${id}/review`, tokens.radiologist, { decision: 'accept', attestation: true });
    }
    const finals = await waitAll(runtime.store, ids, 1800_000, progress('billed'), ['billed', 'failed']);
    const billed = finals.filter((c) => c.status === 'billed').length;
    const tb = performance.now();
    const deadline = Date.now() + (PURGE_INTERVAL_S + 30) * 1000;
    while ((await seriesLeft(dataDir, ids)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const left = await seriesLeft(dataDir, ids);
    console.log(`lifecycle: ${billed}/${cases} billed in ${secs(t0)} s; every spool purged ${secs(tb)} s after the last was billed (interval ${PURGE_INTERVAL_S} s); ${left} series left`);

    const disk = await Promise.all(ids.map((id) => bytesUnder(join(dataDir, 'cases', id))));
    const reports = await Promise.all(ids.map((id) => bytesUnder(join(dataDir, 'cases', id, 'artifacts'))));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`lifecycle, disk per finished case: mean ${kb(mean(disk))}, max ${kb(Math.max(...disk))}; its reports ${kb(mean(reports))} (target: reports only): ${left === 0 && mean(disk) === mean(reports) ? 'MET' : 'NOT MET'}`);

    const memory = await redisBytesByKind(redis, prefix);
    const total = Object.values(memory).reduce((a, b) => a + b, 0);
    const parts = Object.entries(memory).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${kb(v / cases)}`).join(', ');
    console.log(`lifecycle, Redis per finished case: ${kb(total / cases)} (${parts}); BullMQ keeps at most 5,000 finished jobs per queue, the outbox its window, the audit stream its window`);
  } finally {
    await runtime?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await rm(work, { recursive: true, force: true });
  }
}

async function seriesLeft(dataDir: string, ids: readonly string[]): Promise<number> {
  let n = 0;
  for (const id of ids) if ((await readdir(join(dataDir, 'cases', id)).catch(() => [])).some((e) => e === 'series' || e.startsWith('spool-'))) n++;
  return n;
}

async function bytesUnder(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? await bytesUnder(p) : (await stat(p)).size;
  }
  return n;
}

/** MEMORY USAGE of every key of the run, summed by kind (cases, queues, audit, billing, indexes). */
async function redisBytesByKind(redis: ReturnType<typeof connectRedis>, prefix: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    const sizes = await Promise.all(keys.map((k) => redis.memory('USAGE', k)));
    keys.forEach((k, i) => {
      const rest = k.slice(prefix.length + 1);
      const kind = rest.startsWith('bull:') ? 'BullMQ' : rest.startsWith('case:') ? 'case documents and timelines' : rest.startsWith('audit') ? 'audit stream' : rest.startsWith('billing') ? 'billing outbox' : 'indexes';
      out[kind] = (out[kind] ?? 0) + Number(sizes[i] ?? 0);
    });
  } while (cursor !== '0');
  return out;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const secs = (since: number) => ((performance.now() - since) / 1000).toFixed(1);
