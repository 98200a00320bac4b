/**
 * The billing outbox's guarantees against the real Redis: one charge however many signatures and billing
 * jobs race; a delivery process killed between the outbox write and the acknowledgment delivers once
 * after restart; one delivery loop per output across processes (fenced cursor); a REST feed follower
 * never misses or double-counts; `ildflow start --role worker:billing` starts the configured outputs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PAYER_ADVISORIES } from '../../shared/billing/payer-advisories.js';
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { DeliveryLockLost } from '../../shared/store/delivery-store.js';
import { claimCase } from '../../shared/review/index.js';
import { openRuntime } from '../../services/cli/runtime.js';
import { bill } from '../../workers/billing/billing.worker.js';
import { startDeliveryLoop } from '../../workers/billing/delivery-loop.js';
import type { WorkerDeps } from '../../workers/deps.js';
import { createMllpOutput } from '../../workers/billing/mllp-output.js';
import { startApi, REDIS_URL, type Harness } from '../helpers/api-harness.js';
import { startMllpListener, type MllpListener } from '../helpers/mllp-listener.js';
import { USERS } from '../helpers/pipeline-harness.js';
import { deleteKeys, newPrefix } from '../helpers/redis-keys.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function startDeliveryProcess(prefix: string, mllp: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/billing-delivery-process.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      REDIS_URL,
      TEST_PREFIX: prefix,
      ILDFLOW_HL7_MLLP: mllp,
      ILDFLOW_HL7_ACK_TIMEOUT_MS: '60000', // "silent" then means: blocked waiting, until killed
      ILDFLOW_BILLING_RETRY_BASE_MS: '20',
      ILDFLOW_LOG_LEVEL: 'silent',
      TEST_LOCK_TTL_MS: '800',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`delivery process exited with ${code}`)));
  });
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('billing outbox', () => {
  let h: Harness;
  beforeAll(async () => void (h = await startApi()));
  afterAll(async () => h.close());

  it('gives one charge for ten concurrent signatures and ten concurrent billing jobs of one case', async () => {
    const c = await h.seedCase('in_review');
    const reviews = await Promise.all(
      Array.from({ length: 10 }, () => h.call('POST', `/v1/cases/${c.id}/review`, { as: 'radiologist', body: { decision: 'accept', attestation: true } })),
    );
    expect(reviews.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(409)]);
    const deps = { store: h.store, config: { ILDFLOW_BILLING_MODE: 'global', payerAdvisories: DEFAULT_PAYER_ADVISORIES } } as unknown as WorkerDeps;
    await Promise.all(Array.from({ length: 10 }, () => bill({ caseId: c.id, traceId: 't' }, deps)));
    const events = (await h.store.billingEvents(undefined, 1000)).filter((e) => (e.event as { caseId: string }).caseId === c.id);
    expect(events).toHaveLength(1);
    const billed = await h.store.get(c.id);
    expect(billed.status).toBe('billed');
    expect(billed.billing?.eventIds).toEqual([events[0]!.eventId]);
    expect((await h.store.timeline(c.id)).filter((t) => t.to === 'billed')).toHaveLength(1);
  });

  it('lets a billing user follow the REST feed from a cursor without missing or double-counting events', async () => {
    const produced: string[] = [];
    let producing = true;
    const producer = (async () => {
      const cases = await Promise.all(Array.from({ length: 12 }, () => h.seedCase('signed')));
      await Promise.all(cases.map(async (c) => produced.push((await h.bill(c.id)).billing!.eventIds[0]!)));
      // Reversals join the same feed.
      for (const c of cases.slice(0, 3)) {
        const r = await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'radiologist', body: { text: 'Rejected on re-read.', decision: 'reject', attestation: true } });
        produced.push(r.json.billing.reversalEventIds[0]);
      }
      producing = false;
    })();

    // The follower starts from the current end of the feed, pages of 4, and "restarts" (forgets all but
    // its persisted cursor, and re-reads one page back, as after a crash before saving) now and then.
    const head = await h.call('GET', '/v1/billing/events?limit=1000', { as: 'billing' });
    let cursor: string | null = head.json.next;
    let saved = cursor;
    const seen = new Map<string, number>();
    let pages = 0;
    while (producing || pages === 0 || (await h.call('GET', `/v1/billing/events?limit=4${cursor ? `&after=${cursor}` : ''}`, { as: 'billing' })).json.events.length > 0) {
      const res = await h.call('GET', `/v1/billing/events?limit=4${cursor ? `&after=${cursor}` : ''}`, { as: 'billing' });
      expect(res.status).toBe(200);
      for (const e of res.json.events as { eventId: string }[]) seen.set(e.eventId, (seen.get(e.eventId) ?? 0) + 1);
      cursor = res.json.next;
      pages += 1;
      if (pages % 3 === 0) cursor = saved; // crash: resume from the older saved cursor (at-least-once)
      else saved = cursor;
      await sleep(5);
    }
    await producer;
    // Dedupe on eventId, as the feed contract says: every produced event exactly once, nothing else.
    const ids = [...seen.keys()];
    expect(ids.sort()).toEqual([...produced].sort());
    expect(produced).toHaveLength(15);
    // Re-reads happened (so the dedupe was exercised), and the feed order is the stream order.
    expect([...seen.values()].some((n) => n > 1)).toBe(true);
    const all = (await h.store.billingEvents(head.json.next ?? undefined, 1000)).map((e) => e.eventId);
    expect(all).toEqual(expect.arrayContaining(produced));
    expect(all).toHaveLength(15);
  });

  it('fences the cursor: a loop whose lock expired cannot move it', async () => {
    const d = h.store.delivery;
    const out = `fence-${randomUUID().slice(0, 8)}`;
    expect(await d.acquireLock(out, 'A', 100)).toBe(true);
    expect(await d.acquireLock(out, 'B', 100)).toBe(false);
    await sleep(150);
    expect(await d.acquireLock(out, 'B', 5000)).toBe(true);
    await expect(d.advance(out, 'A', '1-1', 'x')).rejects.toBeInstanceOf(DeliveryLockLost);
    await expect(d.countFailedAttempt(out, 'A', 'x')).rejects.toBeInstanceOf(DeliveryLockLost);
    expect(await d.renewLock(out, 'A', 5000)).toBe(false);
    expect(await d.advance(out, 'B', '1-1', 'x')).toBe(1);
    expect(await d.cursor(out)).toBe('1-1');
  });

  describe('with an MLLP peer', () => {
    let peer: MllpListener;
    beforeAll(async () => void (peer = await startMllpListener()));
    afterAll(async () => peer.close());

    it('delivers once after the delivery process is killed between the outbox write and the ACK', async () => {
      const c = await h.seedCase('billed'); // written to the outbox while no delivery process runs
      const eventId = c.billing!.eventIds[0]!;
      const cursorOf = async () => (await h.store.billingEvents(undefined, 1000)).find((e) => e.eventId === eventId)?.cursor;
      const startCursor = await h.store.delivery.cursor('mllp');
      // Earlier tests' events are ahead of ours in the outbox: acknowledge them, stay silent on ours.
      const pending = (await h.store.delivery.read(startCursor, 1000)).map((e) => e.eventId);
      const ours = pending.indexOf(eventId);
      peer.script([...Array(ours).fill('AA'), 'silent'], 'AA');
      const before = peer.received.length;

      const first = await startDeliveryProcess(h.prefix, peer.url);
      await peer.waitForReceived(before + ours + 1, 15_000);
      first.kill('SIGKILL'); // killed while waiting for the ACK: the cursor has not moved past our event
      await once(first, 'exit');
      expect(await h.store.delivery.cursor('mllp')).not.toBe(await cursorOf());

      const second = await startDeliveryProcess(h.prefix, peer.url); // waits for the dead process's lock to expire
      await until(async () => (await h.store.delivery.cursor('mllp')) === (await cursorOf()), 15_000, 'the cursor to pass the event');
      second.kill('SIGTERM');
      await once(second, 'exit');

      const ourMessages = peer.received.slice(before).filter((r) => r.message.includes(`|${eventId}|`));
      expect(ourMessages.map((r) => r.action)).toEqual(['silent', 'AA']); // sent twice, acknowledged once
      expect(new Set(ourMessages.map((r) => r.controlId)).size).toBe(1); // same MSH-10: the receiver dedupes

      // A third start delivers nothing again.
      const count = peer.received.length;
      const third = await startDeliveryProcess(h.prefix, peer.url);
      await sleep(1200);
      third.kill('SIGTERM');
      await once(third, 'exit');
      expect(peer.received.length).toBe(count);
    });

    it('runs one delivery loop per output: two competing loops deliver each event exactly once, in order', async () => {
      peer.script([], 'AA');
      const start = await h.store.delivery.cursor('mllp');
      const before = peer.received.length;
      const cases = await Promise.all(Array.from({ length: 8 }, () => h.seedCase('billed')));
      const expected = (await h.store.delivery.read(start, 1000)).map((e) => e.eventId);
      expect(expected).toEqual(expect.arrayContaining(cases.map((c) => c.billing!.eventIds[0])));
      const loops = [1, 2].map(() =>
        startDeliveryLoop({
          output: createMllpOutput({ url: peer.url, connectTimeoutMs: 1000, ackTimeoutMs: 1000, message: { sendingFacility: 'F', receivingApplication: 'B', receivingFacility: 'B' }, clock: () => new Date() }),
          store: h.store.delivery,
          logger: createLogger({ level: 'silent' }),
          policy: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
          lockTtlMs: 1000,
          pollMs: 10,
        }),
      );
      await until(async () => (await h.store.delivery.read(await h.store.delivery.cursor('mllp'), 10)).length === 0, 15_000, 'the outbox to drain');
      await Promise.all(loops.map((l) => l.stop()));
      const sentIds = peer.received.slice(before).map((r) => /\rFT1\|1\|([^|]+)\|/.exec(r.message)?.[1]);
      expect(sentIds).toEqual(expected);
    });

    it('starts the configured outputs in the billing worker role (ildflow start --role worker:billing)', async () => {
      peer.script([], 'AA');
      const prefix = newPrefix('billing-rt');
      const config = loadConfig({ REDIS_URL, ILDFLOW_REDIS_PREFIX: prefix, ILDFLOW_USERS_FILE: '(in memory)', ILDFLOW_HL7_MLLP: peer.url, ILDFLOW_LOG_LEVEL: 'silent' }, { pacsRequired: false });
      const rt = await openRuntime(config, { roles: ['worker:billing'], users: USERS, logger: createLogger({ level: 'silent' }) });
      try {
        // A signed case billed through the store of this runtime's prefix.
        const store = rt.store;
        const body = h.orderBody();
        const { case: created } = await store.create(body, { actor: 'u-ord', advisories: [] });
        const seeded = await seedSignedIn(store, created.id);
        const deps = { store, config } as unknown as WorkerDeps;
        await bill({ caseId: seeded, traceId: 't' }, deps);
        const eventId = (await store.get(seeded)).billing!.eventIds[0]!;
        await until(() => peer.received.some((r) => r.message.includes(`|${eventId}|`) && r.action === 'AA'), 10_000, 'the runtime to deliver');
      } finally {
        await rt.close();
        await deleteKeys(h.redis, prefix);
      }
    });
  });

  /** Walks a case in another store to `signed` (the harness seeds only in its own prefix). */
  async function seedSignedIn(store: Harness['store'], id: string): Promise<string> {
    const { makeEngineResult, makeSource } = await import('../../shared/billing/test-fixtures.js');
    const { submitReview } = await import('../../shared/review/index.js');
    await store.transition(id, 'w', 'retrieving', 's', { source: makeSource() });
    await store.transition(id, 'w', 'analyzing', 's');
    await store.transition(id, 'w', 'awaiting_review', 's', { result: makeEngineResult() });
    const u = h.users.radiologist;
    await store.update(id, u.id, (c, now) => claimCase(c, u, now, 30));
    await store.update(id, u.id, (c, now) => submitReview(c, u, { decision: 'accept', attestation: true }, now));
    return id;
  }
});
