/**
 * Starts the real API on an ephemeral port against the real Redis, isolated by a random key prefix
 * (`test-<uuid>`; never FLUSHALL — docs/style.md §8). Seeds cases through the real store and the real
 * decision functions, so tests exercise the same code paths the workers and the API use.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import type { ProviderTokens } from '../../shared/auth/provider-tokens.js';
import { hashToken, newToken, type User } from '../../shared/auth/users.js';
import { createUserDirectory } from '../../shared/auth/users.js';
import { buildChargeEvent } from '../../shared/billing/charge-event.js';
import { advisoriesFor } from '../../shared/billing/payer-advisories.js';
import { makeEngineResult, makeSource } from '../../shared/billing/test-fixtures.js';
import type { Case, CaseStatus, CreateCaseBody } from '../../shared/domain/case.js';
import { createLogger } from '../../shared/logger.js';
import { createPipeline } from '../../shared/queues.js';
import { connectRedis, type Redis } from '../../shared/redis.js';
import { claimCase, submitReview } from '../../shared/review/index.js';
import { createCaseStore, type CaseStore } from '../../shared/store/case-store.js';
import { createApp } from '../../services/api/app.js';
import type { ApiDeps } from '../../services/api/deps.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const USER_KEYS = ['orderer', 'orderer2', 'pacs', 'radiologist', 'radiologist2', 'billing', 'admin'] as const;
export type UserKey = (typeof USER_KEYS)[number];

const PROFILES: Record<UserKey, Omit<User, 'tokenSha256'>> = {
  orderer: { id: 'u-ord', name: 'Lee Park, MD', roles: ['orderer'] },
  orderer2: { id: 'u-ord-2', name: 'Kim Ortiz, MD', roles: ['orderer'] },
  pacs: { id: 'u-pacs', name: 'Orthanc', roles: ['pacs'] },
  radiologist: { id: 'u-rad-1', name: 'Ada Reyes, MD', roles: ['radiologist'], npi: '1234567893' },
  radiologist2: { id: 'u-rad-2', name: 'Bo Chen, MD', roles: ['radiologist'], npi: '1245319599' },
  billing: { id: 'u-bill', name: 'Billing interface', roles: ['billing'] },
  admin: { id: 'u-admin', name: 'Sam Admin', roles: ['admin'] },
};

export type HarnessOptions = Readonly<{ bodyLimit?: number; metricsToken?: string; pacsReady?: () => Promise<void>; providerTokens?: ProviderTokens }>;

export type Harness = Awaited<ReturnType<typeof startApi>>;

export async function startApi(opts: HarnessOptions = {}) {
  const prefix = `test-${randomUUID()}`;
  const redis: Redis = connectRedis(REDIS_URL, { name: prefix });
  // A movable clock: tests jump past a lease without waiting for it.
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  const store: CaseStore = createCaseStore(redis, prefix, clock);
  const url = new URL(REDIS_URL);
  const pipeline = createPipeline({ host: url.hostname, port: Number(url.port || 6379) }, prefix);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ildflow-api-'));

  const tokens = {} as Record<UserKey, string>;
  const users = {} as Record<UserKey, User>;
  for (const k of USER_KEYS) {
    tokens[k] = newToken();
    users[k] = { ...PROFILES[k], tokenSha256: hashToken(tokens[k]) };
  }
  const logLines: string[] = [];
  const deps: ApiDeps = {
    config: { ILDFLOW_BODY_LIMIT: opts.bodyLimit ?? 64 * 1024, ILDFLOW_CLAIM_LEASE_MINUTES: 30, ILDFLOW_DATA_DIR: dataDir, ILDFLOW_METRICS_TOKEN: opts.metricsToken, ILDFLOW_AUTH_FAILURES_PER_MINUTE: 1000 },
    store,
    users: createUserDirectory(Object.values(users)),
    providerTokens: opts.providerTokens,
    pipeline,
    logger: createLogger({ level: 'error', destination: { write: (s: string) => void logLines.push(s) } }),
    metrics: new Registry(),
    pingRedis: async () => void (await redis.ping()),
    pacsReady: opts.pacsReady ?? (async () => {}),
    advisoriesFor,
    clock,
  };
  const server = createApp(deps).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  type Req = { as?: UserKey; token?: string; body?: unknown; raw?: string; headers?: Record<string, string> };
  async function call(method: string, p: string, r: Req = {}) {
    const headers: Record<string, string> = { ...r.headers };
    const token = r.token ?? (r.as ? tokens[r.as] : undefined);
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = r.raw;
    if (r.body !== undefined) body = JSON.stringify(r.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(baseUrl + p, { method, headers, body });
    const text = await res.text();
    let json: any; // assertions read any field
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  }

  let seq = 0;
  /** A valid order; each call gets a fresh order id and, unless given, patient id. */
  function orderBody(o: { orderId?: string; patientId?: string; study?: CreateCaseBody['study'] | null } = {}): CreateCaseBody {
    seq += 1;
    return {
      order: {
        id: o.orderId ?? `ORD-${seq}-${randomUUID().slice(0, 8)}`,
        orderedAt: '2026-11-27T09:00:00Z',
        priority: 'routine',
        orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' },
        indications: ['J84.10', 'R06.00'],
      },
      patient: { id: o.patientId ?? `MRN-${randomUUID().slice(0, 8)}`, name: 'DOE^JANE', birthDate: '1961-04-02', sex: 'F' },
      ...(o.study === null ? {} : { study: o.study ?? { studyInstanceUid: '1.2.826.0.1.3680043.8.498.10293847561029384756', accessionNumber: 'A123' } }),
      coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: '2026-11-27' } },
    };
  }

  const W = 'worker:test';
  /** Walks a new case through the lifecycle to `status` with the same moves the workers make. */
  async function seedCase(status: CaseStatus, o: { by?: UserKey; body?: CreateCaseBody; artifact?: boolean } = {}): Promise<Case> {
    const { case: created } = await store.create(o.body ?? orderBody(), { actor: users.orderer.id, advisories: [] });
    const id = created.id;
    const to = (s: CaseStatus, patch: Partial<Case> = {}) => store.transition(id, W, s, `seed ${s}`, patch);
    if (status === 'queued') return created;
    if (status === 'cancelled') return to('cancelled');
    if (status === 'awaiting_study') return to('awaiting_study', { awaitingStudyUntil: new Date(Date.now() + 3600_000).toISOString() });
    await to('retrieving', { source: makeSource() });
    if (status === 'retrieving') return store.get(id);
    if (status === 'on_hold')
      return to('on_hold', { hold: { at: new Date().toISOString(), differs: ['birthDate'], study: { studyInstanceUid: '1.2.826.0.1.99', patientId: created.patient.id, birthDate: '19000101' } } });
    if (status === 'failed') return to('failed', { failure: { stage: 'retrieve', reason: 'PACS unavailable', at: new Date().toISOString(), attempts: 6 } });
    await to('analyzing');
    if (status === 'analyzing') return store.get(id);
    if (status === 'ineligible') return to('ineligible', { ineligibleReasons: ['slice thickness 5 mm > 3 mm allowed'] });
    await to('awaiting_review', { result: makeEngineResult() });
    if (o.artifact) await writeArtifact(id, 'report.pdf', '%PDF-1.7 test\n');
    if (status === 'awaiting_review') return store.get(id);
    const u = users[o.by ?? 'radiologist'];
    await store.update(id, u.id, (c, now) => claimCase(c, u, now, 30));
    if (status === 'in_review') return store.get(id);
    const decision = status === 'rejected' ? 'reject' : 'accept';
    const review = { decision, attestation: true, ...(decision === 'reject' ? { comment: 'artefact' } : {}) } as const;
    await store.update(id, u.id, (c, now) => submitReview(c, u, review, now));
    if (status === 'signed' || status === 'rejected') return store.get(id);
    await bill(id);
    if (status === 'billed') return store.get(id);
    throw new Error(`seedCase: ${status} is not seeded`);
  }

  /** signed → billed with a real charge event in the outbox, as the billing worker does it. */
  async function bill(id: string): Promise<Case> {
    return store.update(id, 'worker:billing', (c, now) => {
      const charge = buildChargeEvent(c, { mode: 'global', now });
      return {
        next: { ...c, status: 'billed', billing: { eventIds: [charge.eventId], codes: charge.lines.map((l) => l.code), billedAt: now.toISOString() } },
        reason: 'charge emitted',
        events: [{ eventId: charge.eventId, event: charge }],
      };
    });
  }

  async function writeArtifact(id: string, name: string, content: string): Promise<void> {
    const dir = path.join(dataDir, 'cases', id, 'artifacts');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, name), content);
    await store.update(id, W, (c, now) => ({
      next: { ...c, artifacts: [...c.artifacts, { name, mediaType: 'application/pdf', sha256: '0'.repeat(64), bytes: content.length, createdAt: now.toISOString() }] },
      reason: `artifact ${name}`,
    }));
  }

  async function jobIds(queue: keyof typeof pipeline.queues): Promise<string[]> {
    const jobs = await pipeline.queues[queue].getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
    return jobs.map((j) => j.id ?? '').sort();
  }

  async function close(): Promise<void> {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pipeline.close();
    // Remove every key of this run (SCAN, never KEYS or FLUSH*: the Redis is shared).
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
    await rm(dataDir, { recursive: true, force: true });
  }

  return {
    baseUrl, prefix, tokens, users, store, pipeline, redis, dataDir, deps, logLines,
    call, orderBody, seedCase, bill, writeArtifact, jobIds, close,
    advance: (ms: number) => void (offsetMs += ms),
  };
}
