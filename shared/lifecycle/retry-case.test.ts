import { describe, expect, it } from 'vitest';
import { CASE_STATUSES } from '../domain/case.js';
import { TransitionRefused } from '../errors.js';
import { REPORT_ARTIFACTS } from '../reports/report-refs.js';
import { ADMIN, T0, caseIn } from '../review/test-cases.js';
import { nextJob } from './next-job.js';
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

describe('retryCase on a signed case whose report or billing failed', () => {
  const failedAt = (stage: string) => ({ stage, reason: 'the PACS refused the STOW', at: T0.toISOString(), attempts: 5 });
  const pacsHolds = [REPORT_ARTIFACTS.srFinal, REPORT_ARTIFACTS.pdfDicom].map((name) => ({ name, mediaType: 'application/dicom', sha256: 'x', bytes: 1, createdAt: T0.toISOString(), storedToPacsAt: T0.toISOString() }));

  it('keeps it signed and its attempt, drops the failure, and names a new final report job after the next version', () => {
    const signed = caseIn('signed', { version: 11, failure: failedAt('report') });
    const { next, reason } = retryCase(signed, ADMIN, T0);
    expect(next).toMatchObject({ status: 'signed', attempt: signed.attempt, stageRetryVersion: 12 });
    expect(next.failure).toBeUndefined();
    expect(reason).toBe('retry of the report stage by u-admin after: the PACS refused the STOW');
    expect(nextJob(signed)).toEqual({ caseId: signed.id, attempt: 0, queue: 'report', phase: 'final' });
    expect(nextJob(next)).toEqual({ caseId: signed.id, attempt: 0, queue: 'report', phase: 'final', tag: 'retry-v12' });
  });

  it('re-runs a failed billing job as a new billing job once the PACS holds the documents', () => {
    const signed = caseIn('signed', { version: 20, artifacts: pacsHolds, failure: failedAt('billing') });
    expect(nextJob(retryCase(signed, ADMIN, T0).next)).toEqual({ caseId: signed.id, attempt: 0, queue: 'billing', tag: 'retry-v21' });
  });

  it('refuses a signed case with nothing failed (its report and billing are under way), or another stage’s failure', () => {
    expect(() => retryCase(caseIn('signed'), ADMIN, T0)).toThrow(/^nothing to retry: this signed case has no failed final report or billing/);
    expect(() => retryCase(caseIn('signed', { failure: failedAt('retrieve') }), ADMIN, T0)).toThrow(TransitionRefused);
  });

  it('says why it refuses any other status: nothing to retry', () => {
    expect(() => retryCase(caseIn('billed', { failure: failedAt('report') }), ADMIN, T0)).toThrow(/^nothing to retry: .* this one is billed$/);
  });
});

