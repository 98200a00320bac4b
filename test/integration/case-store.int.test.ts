/** The case store against the real Redis: atomic moves, the lifecycle table, races and the outbox. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateCaseBody, type CaseStatus } from '../../shared/domain/case.js';
import { TransitionRefused } from '../../shared/errors.js';
import { createCaseStore, type CaseStore } from '../../shared/store/case-store.js';
import { deleteKeys, newPrefix, TEST_REDIS_URL } from '../helpers/redis-keys.js';

const body = (orderId: string, priority = 'routine') =>
  CreateCaseBody.parse({
    order: { id: orderId, orderedAt: '2026-11-27T09:00:00Z', priority, orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
    patient: { id: 'MRN-STORE-1', name: 'DOE^JANE', birthDate: '1961-04-02', sex: 'F' },
  });

describe('case store', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = newPrefix('store');
  let store: CaseStore;
  beforeAll(() => {
    store = createCaseStore(redis, prefix);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('creates one case per order id, even when created concurrently', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => store.create(body('ORD-RACE'), { actor: 'u', advisories: [] })));
    expect(new Set(results.map((r) => r.case.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('refuses a move that is not in the lifecycle table, and records nothing', async () => {
    const { case: c } = await store.create(body('ORD-T1'), { actor: 'u', advisories: [] });
    await expect(store.transition(c.id, 'u', 'billed', 'skip ahead')).rejects.toBeInstanceOf(TransitionRefused);
    expect((await store.get(c.id)).status).toBe('queued');
    expect(await store.timeline(c.id)).toHaveLength(1);
  });

  it('lets exactly one of many concurrent movers win, and re-decides the others on fresh state', async () => {
    const { case: c } = await store.create(body('ORD-T2'), { actor: 'u', advisories: [] });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.update(c.id, `w${i}`, (cur) => {
          if (cur.status !== 'queued') throw new TransitionRefused(`already ${cur.status}`);
          return { next: { ...cur, status: 'retrieving' }, reason: `worker ${i}` };
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const moves = (await store.timeline(c.id)).filter((e) => e.to === 'retrieving');
    expect(moves).toHaveLength(1);
  });

  it('writes an outbox event once, atomically with the move, even when replayed', async () => {
    const { case: c } = await store.create(body('ORD-T3'), { actor: 'u', advisories: [] });
    const path: CaseStatus[] = ['retrieving', 'analyzing', 'awaiting_review', 'in_review', 'signed'];
    for (const s of path) await store.transition(c.id, 'u', s, 'test path');
    const bill = () =>
      store.update(c.id, 'billing', (cur) =>
        cur.status === 'signed'
          ? { next: { ...cur, status: 'billed' }, reason: 'charge', events: [{ eventId: `chg-${c.id}`, event: { caseId: c.id } }] }
          : null,
      );
    await Promise.all([bill(), bill(), bill()]);
    const events = (await store.billingEvents(undefined, 1000)).filter((e) => e.eventId === `chg-${c.id}`);
    expect(events).toHaveLength(1);
    expect((await store.get(c.id)).status).toBe('billed');
  });

  it('orders the review queue stat, urgent, routine, then oldest first', async () => {
    const ids: Record<string, string> = {};
    for (const [name, priority] of [['r1', 'routine'], ['s1', 'stat'], ['u1', 'urgent'], ['r2', 'routine']] as const) {
      const { case: c } = await store.create(body(`ORD-Q-${name}`, priority), { actor: 'u', advisories: [] });
      for (const s of ['retrieving', 'analyzing', 'awaiting_review'] as const) await store.transition(c.id, 'u', s, 'test');
      ids[name] = c.id;
      await new Promise((r) => setTimeout(r, 5));
    }
    const queue = (await store.reviewQueue()).map((c) => c.id).filter((id) => Object.values(ids).includes(id));
    expect(queue).toEqual([ids.s1, ids.u1, ids.r1, ids.r2]);
  });

  it('lists a patient’s cases newest first with a working cursor', async () => {
    const first = await store.list({ patientId: 'MRN-STORE-1', limit: 3 });
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).not.toBeNull();
    const second = await store.list({ patientId: 'MRN-STORE-1', limit: 100, cursor: first.nextCursor! });
    const all = [...first.items, ...second.items].map((c) => c.id);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBeGreaterThanOrEqual(8);
    const created = [...first.items, ...second.items].map((c) => c.createdAt);
    expect([...created].sort().reverse()).toEqual(created);
  });

  it('pages through cases created in the same millisecond without skipping any', async () => {
    const frozen = createCaseStore(redis, `${prefix}-tie`, () => new Date('2026-11-27T10:00:00.000Z'));
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await frozen.create(body(`ORD-TIE-${i}`), { actor: 'u', advisories: [] })).case.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await frozen.list({ limit: 2, cursor });
      seen.push(...r.items.map((c) => c.id));
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    expect([...seen].sort()).toEqual([...made].sort());
    await deleteKeys(redis, `${prefix}-tie`);
  });
});
