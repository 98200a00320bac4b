import { describe, expect, it } from 'vitest';
import { ClaimHeld, TransitionRefused } from '../errors.js';
import { CASE_STATUSES } from '../domain/case.js';
import { claimCase, releaseCase } from './claim-case.js';
import { ADA, BO, T0, caseIn, claimedBy, minutes } from './test-cases.js';

describe('claimCase', () => {
  it('moves an awaiting_review case to in_review with a lease of the configured length', () => {
    const { next, reason } = claimCase(caseIn('awaiting_review'), ADA, T0, 30);
    expect(next.status).toBe('in_review');
    expect(next.claim).toEqual({ userId: ADA.id, userName: ADA.name, claimedAt: T0.toISOString(), expiresAt: minutes(30).toISOString() });
    expect(reason).toContain(ADA.id);
  });

  it('renews the lease when the holder claims again, keeping the first claim time', () => {
    const { next, reason, quiet } = claimCase(claimedBy(ADA, minutes(30)), ADA, minutes(20), 30);
    expect(quiet).toBe(true); // not written to the timeline: renewals would grow it without bound
    expect(next.status).toBe('in_review');
    expect(next.claim?.expiresAt).toBe(minutes(50).toISOString());
    expect(next.claim?.claimedAt).toBe(T0.toISOString());
    expect(reason).toMatch(/renewed/);
  });

  it('refuses another physician with ClaimHeld (409) while the lease is live', () => {
    expect(() => claimCase(claimedBy(ADA, minutes(30)), BO, minutes(29), 30)).toThrow(ClaimHeld);
  });

  it('passes the claim to another physician once the lease has expired, and says so', () => {
    const { next, reason } = claimCase(claimedBy(ADA, minutes(30)), BO, minutes(30), 30);
    expect(next.claim?.userId).toBe(BO.id);
    expect(reason).toMatch(/expired/);
  });

  it.each(CASE_STATUSES.filter((s) => s !== 'awaiting_review' && s !== 'in_review'))('refuses to claim a %s case', (s) => {
    expect(() => claimCase(caseIn(s), ADA, T0, 30)).toThrow(TransitionRefused);
  });
});

describe('releaseCase', () => {
  it('returns the holder’s case to the queue without a claim', () => {
    const { next } = releaseCase(claimedBy(ADA, minutes(30)), ADA, T0);
    expect(next.status).toBe('awaiting_review');
    expect(next.claim).toBeUndefined();
  });
  it('refuses a physician who does not hold the case', () => {
    expect(() => releaseCase(claimedBy(ADA, minutes(30)), BO, T0)).toThrow(ClaimHeld);
  });
  it('refuses a case that is not claimed', () => {
    expect(() => releaseCase(caseIn('awaiting_review'), ADA, T0)).toThrow(TransitionRefused);
  });
});
