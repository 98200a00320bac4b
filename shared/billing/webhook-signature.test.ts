import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.js';

const secret = 'whsec-0123456789abcdef';
const body = '{"id":"chg-1-0877T"}';
const now = new Date('2026-11-27T17:00:00Z');
const t = Math.floor(now.getTime() / 1000);

describe('webhook signatures', () => {
  it('signs HMAC-SHA256 over "timestamp.body" as t=…,v1=…', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signWebhook(secret, body, now)).toBe(`t=${t},v1=${expected}`);
  });

  it.each<[string, string | undefined, string, Date, boolean, RegExp | null]>([
    ['a fresh, correct signature', signWebhook(secret, body, now), body, now, true, null],
    ['within the 5-minute tolerance', signWebhook(secret, body, now), body, new Date(now.getTime() + 299_000), true, null],
    ['an extra v1 among others (secret rotation)', `${signWebhook(secret, body, now)},v1=${'0'.repeat(64)}`, body, now, true, null],
    ['a changed body', signWebhook(secret, body, now), body.replace('1', '2'), now, false, /does not match/],
    ['another secret', signWebhook('whsec-other-secret-xx', body, now), body, now, false, /does not match/],
    ['an old timestamp (replay)', signWebhook(secret, body, now), body, new Date(now.getTime() + 301_000), false, /tolerance/],
    ['no header', undefined, body, now, false, /no signature/],
    ['a malformed header', 'sha256=abc', body, now, false, /malformed/],
    ['a truncated signature', signWebhook(secret, body, now).slice(0, -2), body, now, false, /does not match/],
  ])('verifies %s → %s', (_name, header, raw, at, ok, reason) => {
    const r = verifyWebhookSignature(secret, header, raw, at);
    expect(r.ok).toBe(ok);
    if (!r.ok && reason) expect(r.reason).toMatch(reason);
  });
});
