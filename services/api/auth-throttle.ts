/**
 * Slows repeated authentication failures (DESIGN.md §6): after `maxFailures` 401 answers to one client
 * address within a minute, further requests from it get 429 with Retry-After until the minute is over.
 * Tokens are 256-bit random values, so this is not what keeps them secret; it keeps a misconfigured
 * client or a scanner from flooding the audit trail and the logs. In memory, per API process, with a
 * bounded number of tracked addresses so the tracker itself cannot be used to exhaust memory.
 */
import type { RequestHandler } from 'express';
import { TooManyRequests } from '../../shared/errors.js';
import { clientIp } from './context.js';

const WINDOW_MS = 60_000;
const MAX_TRACKED = 10_000;

export function authFailureThrottle(maxFailures: number, clock: () => number = Date.now): RequestHandler {
  const failures = new Map<string, { since: number; count: number }>();
  return (req, res, next) => {
    const ip = clientIp(req) ?? 'unknown';
    const now = clock();
    const seen = failures.get(ip);
    if (seen && now - seen.since >= WINDOW_MS) failures.delete(ip);
    const current = failures.get(ip);
    if (current && current.count >= maxFailures) {
      res.setHeader('Retry-After', String(Math.ceil((current.since + WINDOW_MS - now) / 1000)));
      return next(new TooManyRequests(`too many failed authentications from this address; try again later`));
    }
    res.on('finish', () => {
      if (res.statusCode !== 401) return;
      const entry = failures.get(ip);
      if (entry) entry.count++;
      else {
        // Map iteration is insertion order: the first key is the oldest window.
        if (failures.size >= MAX_TRACKED) failures.delete(failures.keys().next().value!);
        failures.set(ip, { since: clock(), count: 1 });
      }
    });
    next();
  };
}
