/**
 * Slows a client that keeps presenting the same bad bearer token (docs/design.md §6): after `maxFailures` bad
 * presentations of one token from one client address within a minute, that token from that address gets
 * 429 with Retry-After until the minute is over. Tokens are 256-bit random values, so this is not what
 * keeps them secret; it keeps a misconfigured client or a scanner retrying a stale token from hammering
 * the API.
 *
 * The key is (address, token fingerprint), never the address alone: behind a TLS proxy every client has
 * the proxy's address, and a per-address lock would let one client with a stale token lock out the whole
 * hospital (issue 11). Only bad tokens are counted or refused — "a throttle never locks out valid
 * credentials or the health checks" (docs/design.md §6): a valid token is never slowed, nor a request without a
 * token (nothing was guessed), nor the public routes (they never reach authentication). In memory, per API
 * process, with a bounded number of tracked keys so the tracker itself cannot be used to exhaust memory;
 * the fingerprint is a truncated SHA-256, so no presented token (a mistyped real one) is kept.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';

const WINDOW_MS = 60_000;
const MAX_TRACKED = 10_000;

export type AuthFailures = Readonly<{
  /** Seconds until `key` may try again, or null when it is not throttled. */
  retryAfterSeconds(key: string): number | null;
  /** Counts one bad token for `key`. */
  record(key: string): void;
}>;

/** The throttle key of a bad token presented from `ip`. */
export function failureKey(ip: string, token: string): string {
  return `${ip} ${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`;
}

export function createAuthFailures(maxFailures: number, clock: () => number = Date.now): AuthFailures {
  const failures = new Map<string, { since: number; count: number }>();
  const current = (key: string, now: number) => {
    const seen = failures.get(key);
    if (seen && now - seen.since >= WINDOW_MS) failures.delete(key);
    return failures.get(key);
  };
  return {
    retryAfterSeconds(key) {
      const now = clock();
      const seen = current(key, now);
      return seen && seen.count >= maxFailures ? Math.ceil((seen.since + WINDOW_MS - now) / 1000) : null;
    },
    record(key) {
      const now = clock();
      const seen = current(key, now);
      if (seen) return void seen.count++;
      // Map iteration is insertion order: the first key is the oldest window.
      if (failures.size >= MAX_TRACKED) failures.delete(failures.keys().next().value!);
      failures.set(key, { since: now, count: 1 });
    },
  };
}

/** Makes the app's failure tracker available to `authenticate` (services/api/auth.ts) for this request. */
export function authFailureThrottle(maxFailures: number, clock: () => number = Date.now): RequestHandler {
  const failures = createAuthFailures(maxFailures, clock);
  return (_req, res, next) => {
    res.locals.authFailures = failures;
    next();
  };
}

export function authFailuresOf(res: Response): AuthFailures | undefined {
  return res.locals.authFailures as AuthFailures | undefined;
}
