import { describe, expect, it } from 'vitest';
import { ReviewBody } from '../domain/case.js';
import { ClaimHeld, TransitionRefused } from '../errors.js';
import { canonicalJson, sha256Hex } from './actor.js';
import { LeaseExpired } from './errors.js';
import { submitReview } from './submit-review.js';
import { ADA, BO, T0, caseIn, claimedBy, minutes } from './test-cases.js';

const body = (b: Record<string, unknown>) => ReviewBody.parse({ attestation: true, ...b });

describe('submitReview', () => {
  const held = claimedBy(ADA, minutes(30));

  it.each([
    ['accept', {}, 'signed', 'uip'],
    ['amend', { classification: { category: 'probable_uip', rationale: ['no honeycombing on my read'] } }, 'signed', 'probable_uip'],
    ['reject', { comment: 'motion artefact: not interpretable' }, 'rejected', 'uip'],
  ] as const)('%s → %s with the classification %s', (decision, extra, status, category) => {
    const { next } = submitReview(held, ADA, body({ decision, ...extra }), minutes(5));
    expect(next.status).toBe(status);
    expect(next.review?.classification.category).toBe(category);
    expect(next.claim).toBeUndefined();
  });

  it('records the signer with NPI, the time, the attestation and a fingerprint of the result shown', () => {
    const { next } = submitReview(held, ADA, body({ decision: 'accept' }), minutes(5));
    expect(next.review).toMatchObject({
      signer: { id: ADA.id, name: ADA.name, npi: '1234567893' },
      signedAt: minutes(5).toISOString(),
      attestation: true,
      shown: { engineId: 'reference', engineVersion: '1.0.0', resultSha256: sha256Hex(canonicalJson(held.result)) },
      addenda: [],
    });
    expect(next.review?.attestationText).toMatch(/personally reviewed .* ildflow reference QCT engine 1\.0\.0 \(research use only\)/);
  });

  it('hashes the result the same whatever its key order', () => {
    const shuffled = { ...held, result: Object.fromEntries(Object.entries(held.result!).reverse()) as typeof held.result };
    const a = submitReview(held, ADA, body({ decision: 'accept' }), minutes(5)).next.review?.shown.resultSha256;
    const b = submitReview(shuffled, ADA, body({ decision: 'accept' }), minutes(5)).next.review?.shown.resultSha256;
    expect(a).toBe(b);
  });

  it('refuses a physician who does not hold the claim', () => {
    expect(() => submitReview(held, BO, body({ decision: 'accept' }), minutes(5))).toThrow(ClaimHeld);
  });

  it('refuses the holder once the lease has expired', () => {
    expect(() => submitReview(held, ADA, body({ decision: 'accept' }), minutes(30))).toThrow(LeaseExpired);
  });

  it.each(['signed', 'rejected', 'awaiting_review', 'billed'] as const)('refuses a second review: the case is %s', (s) => {
    expect(() => submitReview(caseIn(s), ADA, body({ decision: 'accept' }), T0)).toThrow(TransitionRefused);
  });
});
