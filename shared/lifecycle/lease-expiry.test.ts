import { describe, expect, it } from 'vitest';
import { TransitionRefused } from '../errors.js';
import { ADA, claimedBy, minutes } from '../review/test-cases.js';
import { expireLease } from './lease-expiry.js';

describe('expireLease', () => {
  it('returns an in_review case with an expired lease to awaiting_review, "lease expired"', () => {
    const { next, reason } = expireLease(claimedBy(ADA, minutes(30)), minutes(31));
    expect(next.status).toBe('awaiting_review');
    expect(next.claim).toBeUndefined();
    expect(reason).toMatch(/^lease expired/);
  });
  it('leaves a live lease alone', () => {
    expect(() => expireLease(claimedBy(ADA, minutes(30)), minutes(29))).toThrow(TransitionRefused);
  });
});
