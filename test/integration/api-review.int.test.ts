/** Review, addenda and the billing feed through the API, against a real Redis. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type Harness } from '../helpers/api-harness.js';

const PROBLEM = /^application\/problem\+json/;
const ACCEPT = { decision: 'accept', attestation: true };

describe('review API', () => {
  let h: Harness;
  beforeAll(async () => void (h = await startApi()));
  afterAll(async () => h.close());

  it('lists the queue stat first, then oldest first', async () => {
    const routine = await h.seedCase('awaiting_review');
    const body = h.orderBody();
    body.order.priority = 'stat';
    const stat = await h.seedCase('awaiting_review', { body });
    const res = await h.call('GET', '/v1/review/queue', { as: 'radiologist' });
    const ids = res.json.items.map((i: { id: string }) => i.id);
    expect(ids.indexOf(stat.id)).toBeLessThan(ids.indexOf(routine.id));
    expect(await h.store.auditTrail()).toContainEqual(expect.objectContaining({ action: 'review.queue', userId: 'u-rad-1' }));
  });

  it('gives one of two physicians claiming at once the case (200) and the other 409', async () => {
    const c = await h.seedCase('awaiting_review');
    const [a, b] = await Promise.all([
      h.call('POST', `/v1/cases/${c.id}/claim`, { as: 'radiologist' }),
      h.call('POST', `/v1/cases/${c.id}/claim`, { as: 'radiologist2' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.headers.get('content-type')).toMatch(PROBLEM);
    expect(loser.json.type).toMatch(/claim-held$/);
  });

  it('lets another physician claim once the lease has expired', async () => {
    const c = await h.seedCase('awaiting_review');
    expect((await h.call('POST', `/v1/cases/${c.id}/claim`, { as: 'radiologist' })).status).toBe(200);
    expect((await h.call('POST', `/v1/cases/${c.id}/claim`, { as: 'radiologist2' })).status).toBe(409);
    h.advance(31 * 60_000);
    const taken = await h.call('POST', `/v1/cases/${c.id}/claim`, { as: 'radiologist2' });
    expect(taken.status).toBe(200);
    expect(taken.json.claim.userId).toBe('u-rad-2');
    expect((await h.store.timeline(c.id)).at(-1)?.reason).toMatch(/expired/);
    // The first physician's signature on the lost lease is refused.
    expect((await h.call('POST', `/v1/cases/${c.id}/review`, { as: 'radiologist', body: ACCEPT })).status).toBe(409);
  });

  it('signs on accept, enqueues the final report, and refuses a second review with 409', async () => {
    const c = await h.seedCase('in_review');
    const first = await h.call('POST', `/v1/cases/${c.id}/review`, { as: 'radiologist', body: ACCEPT });
    expect(first.status).toBe(200);
    expect(first.json.review).toMatchObject({ decision: 'accept', signer: { id: 'u-rad-1', npi: '1234567893' }, shown: { resultSha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(await h.jobIds('report')).toContain(`report-${c.id}-a0-final`);
    const second = await h.call('POST', `/v1/cases/${c.id}/review`, { as: 'radiologist', body: ACCEPT });
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toMatch(PROBLEM);
  });

  it('releases a claim back to the queue', async () => {
    const c = await h.seedCase('in_review');
    expect((await h.call('POST', `/v1/cases/${c.id}/release`, { as: 'radiologist2' })).status).toBe(409);
    expect((await h.call('POST', `/v1/cases/${c.id}/release`, { as: 'radiologist' })).json.status).toBe('awaiting_review');
  });

  it.each([
    ['reject without a comment', { decision: 'reject', attestation: true }, ['comment']],
    ['amend without a classification', { decision: 'amend', attestation: true }, ['classification']],
    ['no attestation', { decision: 'accept' }, ['attestation']],
    ['attestation false', { decision: 'accept', attestation: false }, ['attestation']],
    ['an unknown decision', { decision: 'maybe', attestation: true }, ['decision']],
    ['an unknown category', { decision: 'amend', attestation: true, classification: { category: 'nsip' } }, ['classification.category']],
  ])('answers 400 naming the fields for %s', async (_what, body, paths) => {
    const c = await h.seedCase('in_review');
    const res = await h.call('POST', `/v1/cases/${c.id}/review`, { as: 'radiologist', body });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(PROBLEM);
    expect(res.json.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(paths));
    expect((await h.store.get(c.id)).status).toBe('in_review');
  });

  it('reverses a billed case when an addendum rejects it, with one reversal in the billing feed', async () => {
    const c = await h.seedCase('billed');
    const notSigner = await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'radiologist2', body: { text: 'x', decision: 'reject', attestation: true } });
    expect(notSigner.status).toBe(403);
    const res = await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'radiologist', body: { text: 'Series belongs to another patient.', decision: 'reject', attestation: true } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.status).toBe('reversed');
    const again = await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'radiologist', body: { text: 'again', decision: 'reject', attestation: true } });
    expect(again.status).toBe(409);
    const feed = await h.call('GET', '/v1/billing/events?limit=1000', { as: 'billing' });
    const mine = feed.json.events.filter((e: { event: { caseId: string } }) => e.event.caseId === c.id);
    expect(mine.map((e: { event: { kind: string } }) => e.event.kind)).toEqual(['charge', 'reversal']);
    expect(mine[1].event.reverses).toBe(mine[0].eventId);
  });

  it('rejects a signed, unbilled case on a reject addendum, so that it is never billed', async () => {
    const c = await h.seedCase('signed');
    const res = await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'radiologist', body: { text: 'withdrawn', decision: 'reject', attestation: true } });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('rejected');
    expect(res.json.review.addenda).toHaveLength(1);
  });

  it("refuses an admin's change of a signed result (403 problem+json), and keeps the admin's text addendum", async () => {
    const c = await h.seedCase('signed');
    const amend = { text: 'recoded', decision: 'amend', classification: { category: 'no_fibrosis', rationale: [] }, attestation: true };
    for (const body of [amend, { text: 'withdrawn', decision: 'reject', attestation: true }]) {
      const res = await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'admin', body });
      expect(res.status, res.text).toBe(403);
      expect(res.headers.get('content-type')).toMatch(PROBLEM);
    }
    const after = await h.store.get(c.id);
    expect(after.status).toBe('signed');
    expect(after.review).toEqual(c.review);
    expect((await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'admin', body: { text: 'coding note: ABN on file' } })).status).toBe(200);
  });

  it('records an amending addendum as a signature of its own: signer with NPI, time and attestation, which it needs', async () => {
    const c = await h.seedCase('signed');
    const amend = { text: 'Honeycombing on re-read.', decision: 'amend', classification: { category: 'uip', rationale: ['honeycombing in both lower lobes'] } };
    const unattested = await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'radiologist', body: amend });
    expect(unattested.status).toBe(400);
    expect(unattested.json.errors.map((e: { path: string }) => e.path)).toContain('attestation');
    const res = await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'radiologist', body: { ...amend, attestation: true } });
    expect(res.status, res.text).toBe(200);
    const added = res.json.review.addenda.at(-1);
    expect(added).toMatchObject({ by: { id: 'u-rad-1', npi: '1234567893' }, decision: 'amend', attestation: true, attestationText: expect.stringContaining('amend') });
    expect(Date.parse(added.at)).toBeGreaterThan(Date.parse(c.review!.signedAt) - 1);
    expect(res.json.review.signer).toEqual(c.review!.signer); // the first signature stays what it was
  });

  it('refuses free text over its documented limit with 400 problem+json naming the field', async () => {
    const c = await h.seedCase('in_review');
    const long = (n: number) => 'x'.repeat(n);
    const amend = (rationale: string[]) => ({ decision: 'amend', classification: { category: 'uip', rationale }, attestation: true });
    for (const [body, path] of [
      [amend(Array.from({ length: 21 }, () => 'honeycombing')), 'classification.rationale'],
      [amend([long(501)]), 'classification.rationale.0'],
      [{ ...ACCEPT, comment: long(4001) }, 'comment'],
    ] as const) {
      const res = await h.call('POST', `/v1/cases/${c.id}/review`, { as: 'radiologist', body });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type')).toMatch(PROBLEM);
      expect(res.json.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await h.call('POST', `/v1/cases/${c.id}/review`, { as: 'radiologist', body: amend(Array.from({ length: 20 }, () => long(500))) })).status).toBe(200);
    const text = await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'radiologist', body: { text: long(4001) } });
    expect(text.status).toBe(400);
    expect(text.json.errors.map((e: { path: string }) => e.path)).toContain('text');
  });

  it('keeps at most 20 addenda on a case: the 21st is a 409 problem, and the case is unchanged', async () => {
    const c = await h.seedCase('signed');
    for (let i = 0; i < 20; i++) expect((await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'radiologist', body: { text: `note ${i}` } })).status).toBe(200);
    const res = await h.call('POST', `/v1/cases/${c.id}/addendum`, { as: 'radiologist', body: { text: 'one more' } });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(PROBLEM);
    expect((await h.store.get(c.id)).review?.addenda).toHaveLength(20);
  });

  it('returns billing events in order, once each, across cursor pages', async () => {
    for (let i = 0; i < 3; i++) await h.seedCase('billed');
    const all: { cursor: string; eventId: string }[] = [];
    let after: string | null = null;
    for (;;) {
      const res = await h.call('GET', `/v1/billing/events?limit=2${after ? `&after=${after}` : ''}`, { as: 'billing' });
      expect(res.status).toBe(200);
      if (res.json.events.length === 0) {
        expect(res.json.next).toBe(after); // an empty page keeps the cursor
        break;
      }
      all.push(...res.json.events);
      after = res.json.next;
    }
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(new Set(all.map((e) => e.eventId)).size).toBe(all.length);
    const order = all.map((e) => e.cursor.split('-').map(Number) as [number, number]);
    for (let i = 1; i < order.length; i++) expect(order[i]![0] * 1e6 + order[i]![1]).toBeGreaterThan(order[i - 1]![0] * 1e6 + order[i - 1]![1]);
    expect((await h.call('GET', '/v1/billing/events?after=nonsense', { as: 'billing' })).status).toBe(400);
  });
});
