/**
 * Review concurrency on the real API and Redis: two physicians, one case — one signs, the other gets 409;
 * the holder renews the lease; an expired lease is swept back to the queue (workers/sweeper.ts) and the
 * case can then be claimed by someone else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.js';
import { sweepOnce } from '../../workers/sweeper.js';
import { startApi, type Harness } from '../helpers/api-harness.js';

describe('review leases and conflicts', () => {
  let h: Harness;
  beforeAll(async () => void (h = await startApi()));
  afterAll(async () => h.close());
  const sweep = () => sweepOnce({ store: h.store, clock: h.deps.clock!, logger: createLogger({ level: 'silent' }) });

  it('lets one of two physicians sign; the other gets 409 on claim and on review, and 409 again once signed', async () => {
    const c = await h.seedCase('awaiting_review');
    const [a, b] = await Promise.all([h.call('POST', `/v1/cases/${c.id}/claim`, { as: 'radiologist' }), h.call('POST', `/v1/cases/${c.id}/claim`, { as: 'radiologist2' })]);
    const winner = a.status === 200 ? 'radiologist' : 'radiologist2';
    const loser = winner === 'radiologist' ? 'radiologist2' : 'radiologist';
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const body = { decision: 'accept', attestation: true };
    const [w, l] = await Promise.all([h.call('POST', `/v1/cases/${c.id}/review`, { as: winner, body }), h.call('POST', `/v1/cases/${c.id}/review`, { as: loser, body })]);
    expect(w.status).toBe(200);
    expect(l.status).toBe(409);
    expect(l.headers.get('content-type')).toMatch(/problem\+json/);
    const again = await h.call('POST', `/v1/cases/${c.id}/review`, { as: winner, body });
    expect(again.status).toBe(409);
    const signed = await h.store.get(c.id);
    expect(signed.review?.signer.id).toBe(h.users[winner].id);
    expect(signed.review?.shown.resultSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('renews the lease for the holder, keeping the first claim time', async () => {
    const c = await h.seedCase('awaiting_review');
    const first = await h.call('POST', `/v1/cases/${c.id}/claim`, { as: 'radiologist' });
    h.advance(20 * 60_000);
    const renewed = await h.call('POST', `/v1/cases/${c.id}/claim`, { as: 'radiologist' });
    expect(renewed.status).toBe(200);
    expect(renewed.json.claim.claimedAt).toBe(first.json.claim.claimedAt);
    expect(Date.parse(renewed.json.claim.expiresAt) - Date.parse(first.json.claim.expiresAt)).toBeGreaterThanOrEqual(20 * 60_000 - 1000);
  });

  it('does not grow the timeline on renewals: it records the claim and the release, not each renewal', async () => {
    const c = await h.seedCase('awaiting_review');
    const before = (await h.store.timeline(c.id)).length;
    for (let i = 0; i < 40; i++) expect((await h.call('POST', `/v1/cases/${c.id}/claim`, { as: 'radiologist' })).status).toBe(200);
    expect((await h.call('POST', `/v1/cases/${c.id}/release`, { as: 'radiologist' })).status).toBe(200);
    const added = (await h.store.timeline(c.id)).slice(before);
    expect(added.map((e) => `${e.from}→${e.to}`)).toEqual(['awaiting_review→in_review', 'in_review→awaiting_review']);
  });

  it('returns a case with an expired lease to the queue, unclaimed, and lets another physician take it', async () => {
    const c = await h.seedCase('in_review', { by: 'radiologist' });
    expect((await sweep()).leases).toBe(0);
    h.advance(31 * 60_000);
    await sweep();
    const back = await h.store.get(c.id);
    expect(back.status).toBe('awaiting_review');
    expect(back.claim).toBeUndefined();
    const queue = await h.call('GET', '/v1/review/queue', { as: 'radiologist2' });
    const row = queue.json.items.find((i: { id: string }) => i.id === c.id);
    expect(row).toMatchObject({ status: 'awaiting_review' });
    expect(row.claim).toBeUndefined();
    const timeline = await h.store.timeline(c.id);
    expect(timeline.at(-1)).toMatchObject({ actor: 'worker:sweeper', from: 'in_review', to: 'awaiting_review', reason: expect.stringMatching(/^lease expired/) });
    // The former holder's late signature is refused; the other physician can claim and sign.
    expect((await h.call('POST', `/v1/cases/${c.id}/review`, { as: 'radiologist', body: { decision: 'accept', attestation: true } })).status).toBe(409);
    expect((await h.call('POST', `/v1/cases/${c.id}/claim`, { as: 'radiologist2' })).status).toBe(200);
  });

  it('answers GET /v1/me with the user, and every case view lands in the audit trail', async () => {
    const me = await h.call('GET', '/v1/me', { as: 'radiologist' });
    expect(me.json).toEqual({ id: 'u-rad-1', name: 'Ada Reyes, MD', roles: ['radiologist'], npi: '1234567893' });
    const c = await h.seedCase('awaiting_review');
    await h.call('GET', `/v1/cases/${c.id}`, { as: 'radiologist' });
    await h.call('GET', `/v1/cases/${c.id}/artifacts`, { as: 'radiologist' });
    const trail = await h.store.auditTrail();
    const mine = trail.filter((e) => e.caseId === c.id && e.userId === 'u-rad-1').map((e) => e.action);
    expect(mine).toEqual(expect.arrayContaining(['case.read', 'artifact.list']));
  });
});
