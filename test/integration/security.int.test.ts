/**
 * Security controls of docs/design.md §6 checked through the real app (issue 7): every mounted route is in the
 * route table (so the route × role matrix of api-auth.int.test.ts, typed Record<RouteId, …>, covers it);
 * the token check compares every hash; PHI reads are audited; security headers on every kind of answer;
 * body limits; repeated authentication failures slowed; no PHI in logs, /metrics or queue payloads.
 */
import type { AddressInfo } from 'node:net';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const compared = vi.hoisted(() => ({ n: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const timingSafeEqual: typeof real.timingSafeEqual = (a, b) => {
    compared.n++;
    return real.timingSafeEqual(a, b);
  };
  return { ...real, default: { ...real, timingSafeEqual }, timingSafeEqual };
});

const { createApp } = await import('../../services/api/app.js');
const { ROUTES, expressPath } = await import('../../services/api/route-table.js');
const { createUserDirectory, hashToken, newToken } = await import('../../shared/auth/users.js');
const { startApi } = await import('../helpers/api-harness.js');
const { generatePhantom } = await import('../../shared/phantom/generate-phantom.js');
const { startHarness, TOKENS, waitForStatus } = await import('../helpers/pipeline-harness.js');
const { scanKeys } = await import('../helpers/redis-keys.js');

type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };

/** Every `METHOD path` the express app mounts, found by walking its router stack (routers included). */
function mountedRoutes(app: { router: { stack: Layer[] } }): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${layer.route.path}`);
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk(app.router.stack);
  return out.sort();
}

/** Serves a variant of the harness's app (another configuration) on its own port for `use`. */
async function withApp(deps: Parameters<typeof createApp>[0], use: (base: string) => Promise<void>): Promise<void> {
  const server = createApp(deps).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('API security', () => {
  let h: Awaited<ReturnType<typeof startApi>>;
  beforeAll(async () => void (h = await startApi({ bodyLimit: 4096 })));
  afterAll(async () => h?.close());

  it('mounts exactly the routes of the route table, so the authorization matrix cannot miss one', () => {
    const table = Object.values(ROUTES).map((r) => `${r.method.toUpperCase()} ${expressPath(r.path)}`).sort();
    expect(mountedRoutes(createApp(h.deps) as never)).toEqual(table);
  });

  it('compares the presented token with every user hash, whether it matches the first, the last or none', () => {
    const tokens = Array.from({ length: 7 }, () => newToken());
    const dir = createUserDirectory(tokens.map((t, i) => ({ id: `u${i}`, name: `User ${i}`, roles: ['orderer'], tokenSha256: hashToken(t) })));
    for (const [token, expected] of [[tokens[0]!, 'u0'], [tokens[6]!, 'u6'], ['not-a-token', null], ['', null]] as const) {
      compared.n = 0;
      expect(dir.authenticate(token)?.id ?? null).toBe(expected);
      expect(compared.n, String(expected)).toBe(7);
    }
  });

  it('audits every PHI read: case, list, review queue, artifacts, artifact, billing feed', async () => {
    const c = await h.seedCase('awaiting_review', { artifact: true });
    const billed = await h.seedCase('billed');
    const reads: [string, string, 'radiologist' | 'billing' | 'orderer'][] = [
      ['case.read', `/v1/cases/${c.id}`, 'orderer'],
      ['cases.list', '/v1/cases?limit=5', 'orderer'],
      ['review.queue', '/v1/review/queue', 'radiologist'],
      ['artifacts.list', `/v1/cases/${c.id}/artifacts`, 'radiologist'],
      ['artifact.read', `/v1/cases/${c.id}/artifacts/report.pdf`, 'billing'],
      ['billing.events', '/v1/billing/events?limit=10', 'billing'],
    ];
    for (const [, path, as] of reads) {
      const before = (await h.store.auditTrail(100_000)).length;
      const res = await h.call('GET', path, { as });
      expect(res.status, path).toBe(200);
      const after = await h.store.auditTrail(100_000);
      expect(after.length, `no audit entry for GET ${path}`).toBeGreaterThan(before);
      const entry = after.at(-1)!;
      expect(entry.userId, path).toBe(h.users[as].id);
      expect(entry.ip, path).toMatch(/127\.0\.0\.1/);
    }
    expect(billed.status).toBe('billed');
  });

  it('names in the audit entry of a list, queue or feed read the cases it disclosed, and nothing of their patients (issue 11, F11)', async () => {
    const queued = await h.seedCase('awaiting_review');
    const billed = await h.seedCase('billed');
    const lastEntry = async () => (await h.store.auditTrail(100_000)).at(-1)!;
    const idsOf = (entry: Record<string, string>) => (entry.caseIds ?? '').split(' ').filter(Boolean).sort();

    const list = await h.call('GET', '/v1/cases?limit=3', { as: 'radiologist' });
    const listEntry = await lastEntry();
    expect(listEntry.action).toBe('case.list');
    expect(idsOf(listEntry)).toEqual(list.json.items.map((c: { id: string }) => c.id).sort());

    const mine = await h.call('GET', `/v1/cases?patientId=${queued.patient.id}`, { as: 'orderer' });
    const mineEntry = await lastEntry();
    expect(idsOf(mineEntry)).toEqual([queued.id]);
    expect(mine.json.items.map((c: { id: string }) => c.id)).toEqual([queued.id]);
    expect(JSON.stringify(mineEntry)).not.toContain(queued.patient.id);

    const queue = await h.call('GET', '/v1/review/queue', { as: 'radiologist' });
    const queueEntry = await lastEntry();
    expect(idsOf(queueEntry)).toEqual(queue.json.items.map((r: { id: string }) => r.id).sort());
    expect(idsOf(queueEntry)).toContain(queued.id);

    const feed = await h.call('GET', '/v1/billing/events?limit=1000', { as: 'billing' });
    const feedEntry = await lastEntry();
    expect(idsOf(feedEntry)).toEqual([...new Set(feed.json.events.map((e: { event: { caseId: string } }) => e.event.caseId))].sort());
    expect(idsOf(feedEntry)).toContain(billed.id);
    for (const entry of [listEntry, queueEntry, feedEntry]) for (const phi of ['DOE', 'JANE', '1961-04-02']) expect(JSON.stringify(entry)).not.toContain(phi);
  });

  it('sets the security headers on JSON, problem+json, a PNG artifact, the review page and its script, health and metrics', async () => {
    const c = await h.seedCase('awaiting_review');
    const dir = join(h.dataDir, 'cases', c.id, 'artifacts');
    await mkdir(dir, { recursive: true });
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a4944415478da63600000000200015e2f5d7f0000000049454e44ae426082', 'hex');
    await writeFile(join(dir, 'key-image.png'), png);
    await h.store.update(c.id, 'worker:test', (cur, now) => ({
      next: { ...cur, artifacts: [...cur.artifacts, { name: 'key-image.png', mediaType: 'image/png', sha256: '0'.repeat(64), bytes: png.length, createdAt: now.toISOString() }] },
      reason: 'artifact key-image.png',
    }));
    const answers = {
      json: await h.call('GET', '/v1/me', { as: 'admin' }),
      problem: await h.call('GET', '/v1/cases/nope', { as: 'admin' }),
      unauthenticated: await h.call('GET', '/v1/me'),
      png: await h.call('GET', `/v1/cases/${c.id}/artifacts/key-image.png`, { as: 'radiologist' }),
      page: await h.call('GET', '/review'),
      script: await h.call('GET', '/review/app.js'),
      health: await h.call('GET', '/healthz'),
      metrics: await h.call('GET', '/metrics'),
      unknown: await h.call('GET', '/nowhere'),
    };
    expect(answers.png.headers.get('content-type')).toBe('image/png');
    expect(answers.page.headers.get('content-type')).toMatch(/text\/html/);
    expect(answers.problem.headers.get('content-type')).toMatch(/application\/problem\+json/);
    for (const [kind, res] of Object.entries(answers)) {
      expect(res.headers.get('x-content-type-options'), kind).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), kind).toBe('DENY');
      expect(res.headers.get('content-security-policy'), kind).toMatch(/frame-ancestors 'none'/);
      expect(res.headers.get('referrer-policy'), kind).toBe('no-referrer');
      expect(res.headers.get('x-powered-by'), kind).toBeNull();
    }
    for (const kind of ['json', 'problem', 'png'] as const) expect(answers[kind].headers.get('cache-control'), kind).toBe('no-store');
  });

  it.each([
    ['POST', '/v1/cases', 'orderer'],
    ['POST', '/v1/triggers/study-available', 'pacs'],
    ['POST', '/v1/cases/any/review', 'radiologist'],
  ] as const)('answers %s %s with a body over the limit 413 problem+json, before reading it', async (method, path, as) => {
    const res = await h.call(method, path, { as, raw: JSON.stringify({ pad: 'x'.repeat(10_000) }) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.json).toMatchObject({ status: 413 });
  });

  it('slows a client that repeats a bad token: 429 with Retry-After after the limit, for that token from that address', async () => {
    await withApp({ ...h.deps, config: { ...h.deps.config, ILDFLOW_AUTH_FAILURES_PER_MINUTE: 5 } }, async (base) => {
      const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
        fetch(`${base}${path}`, { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
      for (let i = 0; i < 5; i++) expect((await get('/v1/me', 'stale-token')).status).toBe(401);
      const slowed = await get('/v1/me', 'stale-token');
      expect(slowed.status).toBe(429);
      expect(slowed.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(Number(slowed.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(slowed.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect((await get('/v1/cases?limit=1', 'stale-token')).status).toBe(429); // the same token on another route
      // Without ILDFLOW_TRUST_PROXY a forwarded address is the client's own claim: it buys no fresh budget.
      expect((await get('/v1/me', 'stale-token', { 'x-forwarded-for': '10.9.8.7' })).status).toBe(429);
    });
  });

  it('never throttles a valid token, a request without one, or the health checks, whatever another client on the same address sends', async () => {
    // Behind a TLS proxy every client has the proxy's address: one client's bad token must not lock out the others.
    await withApp({ ...h.deps, config: { ...h.deps.config, ILDFLOW_AUTH_FAILURES_PER_MINUTE: 3 } }, async (base) => {
      const get = (path: string, token?: string) => fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      for (let i = 0; i < 10; i++) await get('/v1/me', 'a-bad-client');
      expect((await get('/v1/me', 'a-bad-client')).status).toBe(429);
      for (const [path, who] of [['/v1/me', 'admin'], ['/v1/review/queue', 'radiologist'], ['/v1/cases?limit=1', 'orderer']] as const)
        expect((await get(path, h.tokens[who])).status, `${who} ${path}`).toBe(200);
      for (const path of ['/healthz', '/readyz']) {
        expect((await get(path)).status, path).toBe(200);
        expect((await get(path, 'a-bad-client')).status, `${path} with the bad token`).toBe(200);
      }
      expect((await get('/v1/me')).status, 'no token: 401, not 429').toBe(401);
      expect((await get('/v1/me', 'another-clients-stale-token')).status, 'another bad token: still its own 401').toBe(401);
    });
  });

  describe('behind a TLS-terminating proxy (ILDFLOW_TRUST_PROXY)', () => {
    const session = (base: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/v1/admin/dashboard-session`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${h.tokens.admin}` } });
    const TLS = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' };

    it('sets the dashboard cookie Secure when a trusted proxy says the request came over TLS, and records the client address', async () => {
      await withApp({ ...h.deps, config: { ...h.deps.config, ILDFLOW_TRUST_PROXY: 'loopback' } }, async (base) => {
        const res = await session(base, TLS);
        expect(res.status).toBe(204);
        expect(res.headers.get('set-cookie')).toMatch(/;\s*Secure(;|$)/);
        expect((await session(base)).headers.get('set-cookie'), 'plain HTTP through the proxy').not.toMatch(/Secure/);
        const c = await h.seedCase('queued');
        expect((await fetch(`${base}/v1/cases/${c.id}`, { headers: { ...TLS, authorization: `Bearer ${h.tokens.admin}` } })).status).toBe(200);
        expect((await h.store.auditTrail(100_000)).at(-1)).toMatchObject({ caseId: c.id, ip: '203.0.113.7' });
      });
    });

    it('believes no X-Forwarded-* header when no proxy is trusted: the cookie is not Secure over plain HTTP, the address is the socket\'s', async () => {
      await withApp(h.deps, async (base) => {
        expect((await session(base, TLS)).headers.get('set-cookie')).not.toMatch(/Secure/);
        const c = await h.seedCase('queued');
        await fetch(`${base}/v1/cases/${c.id}`, { headers: { ...TLS, authorization: `Bearer ${h.tokens.admin}` } });
        expect((await h.store.auditTrail(100_000)).at(-1)).toMatchObject({ caseId: c.id, ip: expect.stringMatching(/127\.0\.0\.1/) });
      });
    });

    it('sets the cookie Secure on every answer when ILDFLOW_COOKIE_SECURE=always', async () => {
      await withApp({ ...h.deps, config: { ...h.deps.config, ILDFLOW_COOKIE_SECURE: 'always' } }, async (base) => {
        expect((await session(base)).headers.get('set-cookie')).toMatch(/;\s*Secure(;|$)/);
      });
    });
  });
});

describe('no PHI after a full run', () => {
  const PATIENT = { id: 'MRN-SEC-48213', name: 'VANTERPOOL^OPHELIA^Q', birthDate: '1947-09-23', sex: 'F' };
  const NEEDLES = ['MRN-SEC-48213', 'VANTERPOOL', 'OPHELIA', 'Vanterpool', '1947-09-23', '19470923', '09/23/1947', '23.09.1947'];
  let h: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => void (h = await startHarness()));
  afterAll(async () => h?.close());

  it('keeps the name, MRN and birth date out of logs, /metrics and every queue key, from order to billed', async () => {
    await generatePhantom({ dir: join(h.pacsDir, 'sec'), pattern: 'uip', seed: 5, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5, patient: { id: PATIENT.id, name: PATIENT.name, birthDate: '19470923', sex: 'F' }, study: { accessionNumber: 'ACC-SEC-1', studyDate: '20261020' } });
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, {
      order: { id: 'ORD-SEC-1', orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
      patient: PATIENT,
      coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: '2026-11-27' } },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    await waitForStatus(h, id, ['awaiting_review']);
    expect((await h.call('POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status).toBe(200);
    expect((await h.call('POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'accept', attestation: true })).status).toBe(200);
    await waitForStatus(h, id, ['billed']);
    // A bad request carrying PHI: validation errors must not echo it into the logs either.
    await h.call('POST', '/v1/cases', TOKENS.orderer, { patient: { ...PATIENT, birthDate: 'VANTERPOOL' } });

    const metrics = await fetch(`${h.base}/metrics`).then((r) => r.text());
    expect(metrics).toContain('ildflow_http_request_duration_seconds');
    let queues = '';
    for (const key of await scanKeys(h.redis, `${h.prefix}:bull`)) {
      const type = await h.redis.type(key);
      if (type === 'hash') queues += JSON.stringify(await h.redis.hgetall(key));
      else if (type === 'list') queues += JSON.stringify(await h.redis.lrange(key, 0, -1));
      else if (type === 'zset') queues += JSON.stringify(await h.redis.zrange(key, '0', '-1'));
      else if (type === 'stream') queues += JSON.stringify(await h.redis.xrange(key, '-', '+'));
      else if (type === 'string') queues += (await h.redis.get(key)) ?? '';
    }
    expect(queues).toContain(id);
    const logs = h.logs();
    expect(logs).toContain(id);
    for (const needle of NEEDLES) {
      expect(logs, `logs contain ${needle}`).not.toContain(needle);
      expect(metrics, `metrics contain ${needle}`).not.toContain(needle);
      expect(queues, `queue keys contain ${needle}`).not.toContain(needle);
    }
  }, 90_000);
});
