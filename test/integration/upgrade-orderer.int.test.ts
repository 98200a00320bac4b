/**
 * Cases stored before `orderedBy` existed (issue 11, F0): the orderer who placed them keeps reading,
 * listing, cancelling and replaying them after the upgrade. The case is written here in the old shape
 * (no `orderedBy`, no per-orderer index entry), as the version before it wrote it: its first timeline
 * entry names the user who posted the order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Case, CreateCaseBody } from '../../shared/domain/case.js';
import { startApi, type Harness } from '../helpers/api-harness.js';

describe('cases stored before orderedBy was recorded', () => {
  let h: Harness;
  beforeAll(async () => void (h = await startApi()));
  afterAll(async () => h?.close());

  /** What CREATE_CASE wrote before orderedBy: the document, the order, status, patient and all indexes, the timeline. */
  async function oldShapeCase(body: CreateCaseBody, by: string): Promise<Case> {
    const id = crypto.randomUUID();
    const at = '2026-10-01T08:00:00.000Z';
    const c = { id, status: 'queued', version: 1, createdAt: at, updatedAt: at, attempt: 0, order: body.order, patient: body.patient, requestedStudy: body.study, coverage: body.coverage, advisories: [], artifacts: [] };
    const k = h.store.keys;
    const score = Date.parse(at);
    await h.redis
      .multi()
      .set(k.order(body.order.id), id)
      .hset(k.case(id), 'doc', JSON.stringify(c), 'version', 1, 'status', 'queued')
      .zadd(k.all, score, id)
      .zadd(k.status('queued'), score, id)
      .rpush(k.timeline(id), JSON.stringify({ at, actor: by, from: null, to: 'queued', reason: 'order accepted' }))
      .zadd(k.patient(body.patient.id), score, id)
      .exec();
    return c as Case;
  }

  it('lets the orderer read it and replay its order id, and no other orderer', async () => {
    const body = h.orderBody();
    const old = await oldShapeCase(body, h.users.orderer.id);
    const own = await h.call('GET', `/v1/cases/${old.id}`, { as: 'orderer' });
    expect(own.status).toBe(200);
    expect(own.json.patient.id).toBe(body.patient.id);
    expect((await h.call('GET', `/v1/cases/${old.id}`, { as: 'orderer2' })).status).toBe(404);
    const replay = await h.call('POST', '/v1/cases', { as: 'orderer', body });
    expect(replay.status).toBe(200);
    expect(replay.json.id).toBe(old.id);
    expect((await h.call('POST', '/v1/cases', { as: 'orderer2', body })).status).toBe(409);
  });

  it("lets the orderer cancel it, and not another orderer", async () => {
    const old = await oldShapeCase(h.orderBody(), h.users.orderer.id);
    expect((await h.call('POST', `/v1/cases/${old.id}/cancel`, { as: 'orderer2', body: {} })).status).toBe(404);
    expect((await h.call('POST', `/v1/cases/${old.id}/cancel`, { as: 'orderer', body: {} })).json).toEqual({ id: old.id, status: 'cancelled' });
  });

  it("backfills orderedBy and the orderer's index once at start-up, so the orderer's list has it", async () => {
    const old = await oldShapeCase(h.orderBody(), h.users.orderer.id);
    const ids = async (as: 'orderer' | 'orderer2') => ((await h.call('GET', '/v1/cases?limit=200', { as })).json.items as Case[]).map((c) => c.id);
    expect(await h.store.backfillOrderedBy()).toBeGreaterThanOrEqual(1);
    const doc = JSON.parse((await h.redis.hget(h.store.keys.case(old.id), 'doc'))!) as Case;
    expect(doc.orderedBy).toBe(h.users.orderer.id);
    expect(await ids('orderer')).toContain(old.id);
    expect(await ids('orderer2')).not.toContain(old.id);
    expect(await h.store.backfillOrderedBy()).toBe(0); // nothing left to do: a second start-up changes nothing
  });

  it('leaves a case whose first entry names no user (a worker) to admins, as before', async () => {
    const old = await oldShapeCase(h.orderBody(), 'worker:import');
    await h.store.backfillOrderedBy();
    expect(JSON.parse((await h.redis.hget(h.store.keys.case(old.id), 'doc'))!)).not.toHaveProperty('orderedBy');
    expect((await h.call('GET', `/v1/cases/${old.id}`, { as: 'admin' })).status).toBe(200);
  });
});
