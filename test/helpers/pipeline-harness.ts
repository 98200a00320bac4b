/**
 * Starts the real thing for an end-to-end test: the API and every worker in this process (as
 * `npm start` does), on the real Redis under a private prefix, with a folder of generated DICOM as the
 * PACS. Logs are captured so a test can look for PHI in them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { hashToken, type User } from '../../shared/auth/users.js';
import { loadConfig, type Config } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { openRuntime, type Runtime } from '../../services/cli/runtime.js';
import { deleteKeys, newPrefix, TEST_REDIS_URL } from './redis-keys.js';

export const TOKENS = {
  orderer: 'tok-orderer-0123456789',
  radiologist: 'tok-rad-ada-0123456789',
  radiologist2: 'tok-rad-ben-0123456789',
  billing: 'tok-billing-0123456789',
  pacs: 'tok-pacs-0123456789',
  admin: 'tok-admin-0123456789',
} as const;

export const USERS: User[] = [
  { id: 'u-ord', name: 'Lee Park, MD', roles: ['orderer'], tokenSha256: hashToken(TOKENS.orderer) },
  { id: 'u-rad-1', name: 'Ada Reyes, MD', roles: ['radiologist'], npi: '1234567893', tokenSha256: hashToken(TOKENS.radiologist) },
  { id: 'u-rad-2', name: 'Ben Okafor, MD', roles: ['radiologist'], npi: '1245319599', tokenSha256: hashToken(TOKENS.radiologist2) },
  { id: 'u-bill', name: 'Billing', roles: ['billing'], tokenSha256: hashToken(TOKENS.billing) },
  { id: 'u-pacs', name: 'Orthanc', roles: ['pacs'], tokenSha256: hashToken(TOKENS.pacs) },
  { id: 'u-admin', name: 'Admin', roles: ['admin'], tokenSha256: hashToken(TOKENS.admin) },
];

/** The configuration of a runtime under test: the shared Redis under `prefix`, the API on a free port, a folder PACS. */
export function runtimeTestConfig(where: Readonly<{ prefix: string; dataDir: string; pacsDir: string }>, env: Record<string, string> = {}): Config {
  return loadConfig({
    REDIS_URL: TEST_REDIS_URL,
    ILDFLOW_REDIS_PREFIX: where.prefix,
    ILDFLOW_PORT: '0',
    ILDFLOW_DATA_DIR: where.dataDir,
    ILDFLOW_PACS: pathToFileURL(where.pacsDir).href,
    ILDFLOW_USERS_FILE: '(in memory)',
    ...env,
  });
}

export type Harness = Readonly<{
  runtime: Runtime;
  base: string;
  prefix: string;
  pacsDir: string;
  dataDir: string;
  redis: Redis;
  logs: () => string;
  call(method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}>;

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const work = await mkdtemp(join(tmpdir(), 'ildflow-it-'));
  const pacsDir = join(work, 'pacs');
  const dataDir = join(work, 'data');
  const prefix = newPrefix('it');
  let captured = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      captured += String(chunk);
      cb();
    },
  });
  const config = runtimeTestConfig({ prefix, dataDir, pacsDir }, env);
  await import('node:fs/promises').then((fs) => fs.mkdir(pacsDir, { recursive: true }));
  const runtime = await openRuntime(config, { roles: ['api', 'worker'], users: USERS, logger: createLogger({ level: 'debug', destination: sink }), sweepIntervalMs: 500 });
  const redis = new Redis(TEST_REDIS_URL);
  const base = runtime.url!;
  return {
    runtime,
    base,
    prefix,
    pacsDir,
    dataDir,
    redis,
    logs: () => captured,
    async call(method, path, token, body) {
      const res = await fetch(base + path, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async close() {
      await runtime.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** Polls a case until it reaches one of `statuses`, or fails with its last status and timeline. */
export async function waitForStatus(h: Harness, id: string, statuses: readonly string[], timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    const r = await h.call('GET', `/v1/cases/${id}`, TOKENS.admin);
    last = r.body;
    const status = last?.status ?? last?.case?.status;
    if (statuses.includes(status)) return last;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`case ${id} did not reach ${statuses.join('|')}: ${JSON.stringify(last).slice(0, 2000)}`);
}

/** A routine Medicare order (ABN signed) for `patientId`, born 1950-01-01: the body of `POST /v1/cases`. */
export function routineOrder(id: string, patientId: string, patientName: string) {
  return {
    order: { id, orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
    patient: { id: patientId, name: patientName, birthDate: '1950-01-01', sex: 'F' },
    coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: '2026-11-27' } },
  };
}
