import { describe, expect, it } from 'vitest';
import { CASE_STATUSES } from '../domain/case.js';
import { CaseNotFound, TransitionRefused } from '../errors.js';
import { ADMIN, ORDERER, T0, caseIn } from '../review/test-cases.js';
import { cancelCase } from './cancel-case.js';

describe('cancelCase', () => {
  it.each(['queued', 'awaiting_study', 'on_hold', 'awaiting_review'] as const)('cancels a %s case', (s) => {
    expect(cancelCase(caseIn(s), ORDERER, T0).next.status).toBe('cancelled');
  });
  it.each(CASE_STATUSES.filter((s) => !['queued', 'awaiting_study', 'on_hold', 'awaiting_review'].includes(s)))('refuses a %s case', (s) => {
    expect(() => cancelCase(caseIn(s), ORDERER, T0)).toThrow(TransitionRefused);
  });
  it("answers another orderer's case as not found, and lets an admin cancel any", () => {
    const theirs = caseIn('queued', { orderedBy: 'u-ord-2' });
    expect(() => cancelCase(theirs, ORDERER, T0)).toThrow(CaseNotFound);
    expect(cancelCase(theirs, ADMIN, T0).next.status).toBe('cancelled');
  });
});
