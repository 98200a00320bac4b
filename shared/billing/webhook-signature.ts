/**
 * Webhook signatures (docs/design.md §5, §6): HMAC-SHA256 over `timestamp + "." + body`, sent as
 *   X-Ildflow-Signature: t=<unix seconds>,v1=<lower-case hex HMAC>
 * the scheme Stripe uses. The timestamp is inside the MAC, so a captured request cannot be replayed
 * later than the receiver's tolerance; `v1` names the scheme, so a future one can be sent beside it.
 * The recipe for receivers is in docs/billing.md; `verifyWebhookSignature` is that recipe in code.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Ildflow-Signature';

export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
}

/** The header value for a body sent at `now`. */
export function signWebhook(secret: string, body: string, now: Date): string {
  const t = Math.floor(now.getTime() / 1000);
  return `t=${t},v1=${webhookSignature(secret, t, body)}`;
}

export type VerifyResult = Readonly<{ ok: true; timestamp: number } | { ok: false; reason: string }>;

/**
 * Checks a received header against the raw body (the exact bytes received, before any JSON parsing):
 * any `v1` matching in constant time, and a timestamp within `toleranceSeconds` of `now`.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  rawBody: string,
  now: Date,
  toleranceSeconds = 300,
): VerifyResult {
  if (!header) return { ok: false, reason: 'no signature header' };
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const candidates = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  if (!Number.isInteger(t) || candidates.length === 0) return { ok: false, reason: 'malformed signature header' };
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return { ok: false, reason: 'timestamp outside the tolerance' };
  const expected = Buffer.from(webhookSignature(secret, t, rawBody), 'hex');
  const match = candidates.some((c) => {
    const got = Buffer.from(c, 'hex');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
  return match ? { ok: true, timestamp: t } : { ok: false, reason: 'signature does not match' };
}
