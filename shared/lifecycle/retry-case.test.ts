import { describe, expect, it } from 'vitest';
import { CASE_STATUSES } from '../domain/case.js';
import { TransitionRefused } from '../errors.js';
import { ADMIN, T0, caseIn } from '../review/test-cases.js';
import { retryCase } from './retry-case.js';

describe('retryCase', () => {
  it('re-queues a failed case with the next attempt and no failure', () => {
    const failed = caseIn('failed', { attempt: 1, failure: { stage: 'retrieve', reason: 'PACS down', at: T0.toISOString(), attempts: 6 } });
    const { next, reason } = retryCase(failed, ADMIN, T0);
    expect(next).toMatchObject({ status: 'queued', attempt: 2 });
    expect(next.failure).toBeUndefined();
    expect(reason).toMatch(/PACS down/);
  });
  it.each(CASE_STATUSES.filter((s) => s !== 'failed'))('refuses a %s case', (s) => {
    expect(() => retryCase(caseIn(s), ADMIN, T0)).toThrow(TransitionRefused);
  });
});
