/**
 * Bounded Redis, the billing outbox (issue 17): the stream is trimmed past what every configured output
 * has delivered and past the REST feed's window, never past a dead letter's event; a feed consumer behind
 * the trim gets 410 with the oldest cursor. Real API, real Redis; the clock is moved, not waited for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trimOutboxOnce } from '../../workers/billing/trim-outbox.js';
import { startApi, type Harness } from '../helpers/api-harness.js';

const DAY = 24 * 3600_000;

describe('the billing outbox trim', () => {
  let h: Harness;
  let cursors: string[];
  let offset = 0;
  const clock = () => new Date(Date.now() + offset);

  beforeAll(async () => {
    h = await startApi();
    for (let i = 0; i < 4; i++) await h.seedCase('billed');
    cursors = (await h.store.billingEvents(undefined, 100)).map((e) => e.cursor);
    expect(cursors).toHaveLength(4);
  });
  afterAll(async () => h?.close());

  const feed = (after?: string) => h.call('GET', `/v1/billing/events?limit=100${after ? `&after=${after}` : ''}`, { as: 'billing' });

  it('keeps every event while an output has delivered none, or while the events are inside the window', async () => {
    offset = 60 * DAY;
    expect(await trimOutboxOnce({ store: h.store, clock }, { outputs: ['mllp'], windowMs: 30 * DAY })).toBe(0);
    await h.redis.set(h.store.keys.billingCursor('mllp'), cursors[2]!);
    offset = 0;
    expect(await trimOutboxOnce({ store: h.store, clock }, { outputs: ['mllp'], windowMs: 30 * DAY })).toBe(0);
    expect((await feed()).json.events).toHaveLength(4);
  });

  it('trims past what every output delivered once the window has passed, and answers a consumer behind it with 410', async () => {
    offset = 60 * DAY;
    await h.redis.set(h.store.keys.billingCursor('webhook'), cursors[1]!);
    // The slower output (webhook, at event 2) holds the stream: events 1 goes, 2 to 4 stay.
    expect(await trimOutboxOnce({ store: h.store, clock }, { outputs: ['mllp', 'webhook'], windowMs: 30 * DAY })).toBe(1);
    expect((await feed()).json.events.map((e: { cursor: string }) => e.cursor)).toEqual(cursors.slice(1));
    // A consumer that had read event 1 goes on; one that had not is told where the feed now starts.
    expect((await feed(cursors[0])).json.events).toHaveLength(3);
    const behind = await feed('1-0');
    expect(behind.status).toBe(410);
    expect(behind.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(behind.json).toMatchObject({ status: 410, oldest_cursor: cursors[1], detail: expect.stringContaining('read again without a cursor') });
  });

  it('never trims the event of a dead letter, which a replay reads again', async () => {
    const dl = { id: `mllp-ev`, output: 'mllp', eventId: 'ev', cursor: cursors[1]!, caseId: 'c', kind: 'charge', codes: ['0877T'], reason: 'AR', attempts: 1, deadAt: new Date().toISOString(), status: 'dead' as const, replays: 0 };
    await h.redis.hset(h.store.keys.billingDeadLetters, dl.id, JSON.stringify(dl));
    await h.redis.zadd(h.store.keys.billingDeadLetterIndex, Date.now(), dl.id);
    await h.redis.set(h.store.keys.billingCursor('mllp'), cursors[3]!);
    await h.redis.set(h.store.keys.billingCursor('webhook'), cursors[3]!);
    expect(await trimOutboxOnce({ store: h.store, clock }, { outputs: ['mllp', 'webhook'], windowMs: 30 * DAY })).toBe(0);
    await h.redis.del(h.store.keys.billingDeadLetters, h.store.keys.billingDeadLetterIndex);
    expect(await trimOutboxOnce({ store: h.store, clock }, { outputs: ['mllp', 'webhook'], windowMs: 30 * DAY })).toBe(2);
    expect((await feed()).json.events.map((e: { cursor: string }) => e.cursor)).toEqual([cursors[3]]);
  });
});
