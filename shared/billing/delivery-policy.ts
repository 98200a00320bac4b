/**
 * How a billing output treats one delivery attempt (docs/design.md §5 "Outputs", §7): pure decisions, so the
 * delivery loop in workers/billing only does I/O.
 * - delivered: advance the output's cursor past the event.
 * - retry: a transient failure (MLLP AE, dropped or silent connection, HTTP 5xx/429/timeout). Retried with
 *   exponential backoff, at most `maxAttempts` times in all, then dead-lettered.
 * - reject: the peer refused this event for good (MLLP AR, HTTP 4xx): dead-lettered at once, because
 *   sending it again unchanged cannot succeed; an admin fixes the cause and replays it.
 */

export type DeliveryOutcome =
  | Readonly<{ kind: 'delivered'; detail?: string }>
  | Readonly<{ kind: 'retry'; reason: string }>
  | Readonly<{ kind: 'reject'; reason: string }>;

export type RetryPolicy = Readonly<{ maxAttempts: number; baseDelayMs: number; maxDelayMs: number }>;

/**
 * Production default: 10 attempts, 2 s doubling, capped at 5 min: 2+4+…+256+300 s ≈ 13.5 min of a peer
 * outage before the head event is dead-lettered (and the next one is tried).
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 2_000, maxDelayMs: 300_000 };

/** The wait after the `failedAttempts`-th failure: base × 2^(n−1), capped, with up to 20 % jitter downwards. */
export function backoffMs(failedAttempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  // Jitter spreads the retries of several ildflow deployments hitting one interface engine after an outage.
  return Math.round(raw * (1 - 0.2 * random()));
}

export type NextStep =
  | Readonly<{ action: 'advance' }>
  | Readonly<{ action: 'retry'; delayMs: number }>
  | Readonly<{ action: 'dead-letter'; reason: string }>;

/** What to do after an attempt, given how many attempts (this one included) have failed so far. */
export function nextStep(outcome: DeliveryOutcome, failedAttempts: number, policy: RetryPolicy, random?: () => number): NextStep {
  if (outcome.kind === 'delivered') return { action: 'advance' };
  if (outcome.kind === 'reject') return { action: 'dead-letter', reason: `rejected: ${outcome.reason}` };
  if (failedAttempts >= policy.maxAttempts)
    return { action: 'dead-letter', reason: `gave up after ${failedAttempts} attempts: ${outcome.reason}` };
  return { action: 'retry', delayMs: backoffMs(failedAttempts, policy, random) };
}

/** A webhook answer: 2xx delivered; 408, 425, 429 and 5xx transient; any other status a rejection. */
export function httpOutcome(status: number, text = ''): DeliveryOutcome {
  const reason = `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  if (status >= 200 && status < 300) return { kind: 'delivered', detail: `HTTP ${status}` };
  if (status === 408 || status === 425 || status === 429 || status >= 500) return { kind: 'retry', reason };
  return { kind: 'reject', reason };
}
