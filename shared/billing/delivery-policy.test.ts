import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_RETRY_POLICY, httpOutcome, nextStep, type DeliveryOutcome } from './delivery-policy.js';

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 350 };
const noJitter = () => 0;

describe('delivery policy', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 350],
    [9, 350],
  ])('waits after failure %i: %i ms (doubling, capped)', (n, ms) => expect(backoffMs(n, policy, noJitter)).toBe(ms));

  it('jitters at most 20 % downwards', () => expect(backoffMs(1, policy, () => 1)).toBe(80));

  it('keeps the production default bounded: under 15 minutes of retries per event', () => {
    let total = 0;
    for (let n = 1; n < DEFAULT_RETRY_POLICY.maxAttempts; n++) total += backoffMs(n, DEFAULT_RETRY_POLICY, noJitter);
    expect(total).toBeLessThan(15 * 60_000);
  });

  it.each<[string, DeliveryOutcome, number, string]>([
    ['delivered', { kind: 'delivered' }, 1, 'advance'],
    ['delivered after retries', { kind: 'delivered' }, 3, 'advance'],
    ['a transient failure', { kind: 'retry', reason: 'AE' }, 1, 'retry'],
    ['the last allowed transient failure', { kind: 'retry', reason: 'AE' }, 4, 'dead-letter'],
    ['a rejection on the first attempt', { kind: 'reject', reason: 'AR' }, 1, 'dead-letter'],
  ])('%s → %s', (_name, outcome, attempts, action) => expect(nextStep(outcome, attempts, policy, noJitter).action).toBe(action));

  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [408, 'retry'],
    [425, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [400, 'reject'],
    [401, 'reject'],
    [404, 'reject'],
    [410, 'reject'],
    [301, 'reject'],
  ])('reads HTTP %i as %s', (status, kind) => expect(httpOutcome(status).kind).toBe(kind));
});
