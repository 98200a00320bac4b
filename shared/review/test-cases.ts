/** Case fixtures for the review decisions' tests, built on the billing fixtures (valid against the schemas). */
import type { Case } from '../domain/case.js';
import { makeSignedCase } from '../billing/test-fixtures.js';
import type { ReviewUser } from './actor.js';

export const T0 = new Date('2026-11-27T15:00:00.000Z');
export const minutes = (n: number, from = T0) => new Date(from.getTime() + n * 60_000);

export const ADA: ReviewUser = { id: 'u-rad-1', name: 'Ada Reyes, MD', roles: ['radiologist'], npi: '1234567893' };
export const BO: ReviewUser = { id: 'u-rad-2', name: 'Bo Chen, MD', roles: ['radiologist'], npi: '1245319599' };
export const ADMIN: ReviewUser = { id: 'u-admin', name: 'Admin', roles: ['admin'] };
export const ORDERER: ReviewUser = { id: 'u-ord', name: 'Lee Park, MD', roles: ['orderer'] };

/** A case in any status, with an engine result and no review (unless the status implies one). */
export function caseIn(status: Case['status'], overrides: Partial<Case> = {}): Case {
  const { review: _r, ...c } = makeSignedCase();
  return { ...c, status, ...overrides };
}

/** A case in any status with neither an engine result nor artifacts: one that has not been analysed yet. */
export function bareCaseIn(status: Case['status'], overrides: Partial<Case> = {}): Case {
  const { result: _r, artifacts: _a, ...c } = caseIn(status, overrides);
  return { ...c, artifacts: [], ...overrides };
}

export const claimedBy = (u: ReviewUser, expiresAt: Date): Case =>
  caseIn('in_review', { claim: { userId: u.id, userName: u.name, claimedAt: T0.toISOString(), expiresAt: expiresAt.toISOString() } });
