/**
 * `ildflow demo`: the whole flow on a synthetic chest CT with no PACS — phantom → folder source → order →
 * retrieve → analyze → report → review queue → claim, accept, sign (as a demo radiologist, through the
 * API) → the 0877T charge. Runs against the Redis at REDIS_URL under a private key prefix (removed at
 * the end), or a private redis-server when none answers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { hashToken, newToken, type User } from '../../shared/auth/users.js';
import { loadConfig } from '../../shared/config.js';
import type { Case, TimelineEntry } from '../../shared/domain/case.js';
import { createLogger } from '../../shared/logger.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { options } from './main.js';
import { redisForDemo } from './redis-for-demo.js';
import { openRuntime } from './runtime.js';

const say = (msg: string) => console.log(`▸ ${msg}`);

export async function demoCommand(args: string[]): Promise<number> {
  const { values } = options(args, { keep: { type: 'boolean', default: false }, slices: { type: 'string', default: '160' } });
  const t0 = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'ildflow-demo-'));
  const redis = await redisForDemo(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  say(redis.private ? `started a private Redis at ${redis.url}` : `using Redis at ${redis.url}`);
  const prefix = `ildflow-demo-${randomUUID().slice(0, 8)}`;
  const tokens = { orderer: newToken(), radiologist: newToken(), billing: newToken() };
  const users: User[] = [
    { id: 'demo-orderer', name: 'Lee Park, MD', roles: ['orderer'], tokenSha256: hashToken(tokens.orderer) },
    { id: 'demo-rad', name: 'Ada Reyes, MD', roles: ['radiologist'], npi: '1234567893', tokenSha256: hashToken(tokens.radiologist) },
    { id: 'demo-billing', name: 'Billing system', roles: ['billing'], tokenSha256: hashToken(tokens.billing) },
  ];
  let runtime: Awaited<ReturnType<typeof openRuntime>> | null = null;
  try {
    say('writing a synthetic chest CT (UIP pattern) as DICOM Part 10 files…');
    const t = performance.now();
    const slices = Number(values.slices);
    const phantom = await generatePhantom({
      dir: join(work, 'pacs', 'ct'),
      pattern: 'uip',
      seed: 7,
      slices,
      rows: 256,
      columns: 256,
      sliceThicknessMm: 1.25,
      patient: { id: 'DEMO-MRN-001', name: 'DEMO^PATIENT', birthDate: '19610402', sex: 'F' },
      study: { accessionNumber: 'DEMO-A1', studyDate: '20261101' },
    });
    say(`${phantom.files.length} images written in ${secs(t)} (ground truth: ${phantom.groundTruth.expectedCategory})`);

    const config = loadConfig(
      {
        ...process.env,
        REDIS_URL: redis.url,
        ILDFLOW_REDIS_PREFIX: prefix,
        ILDFLOW_PORT: '0',
        ILDFLOW_HOST: '127.0.0.1',
        ILDFLOW_DATA_DIR: join(work, 'data'),
        ILDFLOW_PACS: pathToFileURL(join(work, 'pacs')).href,
        ILDFLOW_USERS_FILE: '(demo users in memory)',
        ILDFLOW_ENGINE: 'reference',
        ILDFLOW_LOG_LEVEL: process.env.ILDFLOW_LOG_LEVEL ?? 'warn',
      },
      { pacsRequired: false },
    );
    runtime = await openRuntime(config, { roles: ['api', 'worker'], users, logger: createLogger({ level: config.ILDFLOW_LOG_LEVEL }) });
    const api = client(runtime.url!);
    say(`ildflow running (API ${runtime.url}, all workers in this process)`);

    const created = await api.post('/v1/cases', tokens.orderer, {
      order: {
        id: `DEMO-${Date.now()}`,
        orderedAt: new Date().toISOString(),
        priority: 'routine',
        orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' },
        indications: ['J84.10', 'R06.00'],
      },
      patient: { id: 'DEMO-MRN-001', name: 'DEMO^PATIENT', birthDate: '1961-04-02', sex: 'F' },
      coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: new Date().toISOString().slice(0, 10) } },
    });
    const id = (created as { id: string }).id;
    say(`order accepted: case ${id}`);
    for (const a of (created as { advisories?: string[] }).advisories ?? []) say(`  payer advisory: ${a}`);

    const ready = await waitFor(api, tokens.radiologist, id, ['awaiting_review'], 180_000);
    say(`result ready for review: ${ready.result?.classification.category} — ${ready.result?.classification.rationale[0] ?? ''}`);
    await api.post(`/v1/cases/${id}/claim`, tokens.radiologist, {});
    say('Ada Reyes, MD claimed the case');
    await api.post(`/v1/cases/${id}/review`, tokens.radiologist, { decision: 'accept', attestation: true, comment: 'Agree with the automated classification.' });
    say('accepted, attested and signed');
    const billed = await waitFor(api, tokens.radiologist, id, ['billed'], 60_000);
    const feed = (await api.get('/v1/billing/events?limit=10', tokens.billing)) as { events: { eventId: string; event: unknown }[] };
    const charge = feed.events.find((e) => billed.billing?.eventIds.includes(e.eventId));

    const full = (await api.get(`/v1/cases/${id}`, tokens.radiologist)) as { case?: Case; timeline: TimelineEntry[] } & Case;
    console.log('\nCase timeline');
    printTimeline(full.timeline);
    console.log('\nCharge event (billing feed)');
    console.log(JSON.stringify(charge?.event ?? null, null, 2));
    console.log(`\nDemo finished in ${secs(t0)}: case ${id} is ${billed.status}.`);
    return billed.status === 'billed' && charge ? 0 : 1;
  } finally {
    await runtime?.close();
    if (!values.keep) {
      await deleteKeys(redis.url, prefix);
      await rm(work, { recursive: true, force: true });
    } else say(`kept: files in ${work}, Redis keys under ${prefix}:*`);
    await redis.stop();
  }
}

function client(base: string) {
  async function call(method: string, path: string, token: string, body?: unknown): Promise<unknown> {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as unknown;
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
    return json;
  }
  return { get: (p: string, t: string) => call('GET', p, t), post: (p: string, t: string, b: unknown) => call('POST', p, t, b) };
}

async function waitFor(api: ReturnType<typeof client>, token: string, id: string, statuses: string[], timeoutMs: number): Promise<Case> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const body = (await api.get(`/v1/cases/${id}`, token)) as { case?: Case } & Case;
    const c = body.case ?? body;
    if (c.status !== last) say(`  status: ${c.status}`);
    last = c.status;
    if (statuses.includes(c.status)) return c;
    if (['failed', 'ineligible', 'cancelled', 'rejected'].includes(c.status))
      throw new Error(`case ended ${c.status}: ${c.failure?.reason ?? c.ineligibleReasons?.join('; ') ?? ''}`);
    if (Date.now() > deadline) throw new Error(`case still ${c.status} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function printTimeline(entries: readonly TimelineEntry[]): void {
  let prev: number | null = null;
  for (const e of entries) {
    const at = Date.parse(e.at);
    const dt = prev === null ? '' : `+${((at - prev) / 1000).toFixed(2)} s`;
    prev = at;
    console.log(`  ${e.at}  ${dt.padStart(9)}  ${(e.from ?? '—').padEnd(15)} → ${e.to.padEnd(15)} ${e.actor.padEnd(16)} ${e.reason}`);
  }
}

const secs = (since: number) => `${((performance.now() - since) / 1000).toFixed(2)} s`;

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await r.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
