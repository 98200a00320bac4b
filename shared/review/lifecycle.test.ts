import { describe, expect, it } from 'vitest';
import { CASE_STATUSES } from '../domain/case.js';
import { CaseNotFound, TransitionRefused } from '../errors.js';
import { cancelCase, matchesStudyEvent, resumeAwaitingStudy, retryCase } from './lifecycle.js';
import { ADMIN, ORDERER, T0, caseIn } from './test-cases.js';

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

describe('matchesStudyEvent', () => {
  const byUid = caseIn('awaiting_study', { requestedStudy: { studyInstanceUid: '1.2.3' } });
  const byPatient = caseIn('awaiting_study', { requestedStudy: undefined });
  it.each([
    ['the requested study UID', byUid, { studyInstanceUid: '1.2.3' }, true],
    ['another study UID of the patient', byUid, { studyInstanceUid: '1.2.4', patientId: 'MRN-001' }, false],
    ['any study of the patient when none was named', byPatient, { studyInstanceUid: '9.9', patientId: 'MRN-001' }, true],
    ['another patient', byPatient, { studyInstanceUid: '9.9', patientId: 'MRN-002' }, false],
    ['no patient and no named study', byPatient, { studyInstanceUid: '9.9' }, false],
  ] as const)('matches %s: %s', (_what, c, ev, expected) => {
    expect(matchesStudyEvent(c, { ...ev, source: 'test' })).toBe(expected);
  });
});

describe('resumeAwaitingStudy', () => {
  it('moves awaiting_study to retrieving and drops the wait deadline', () => {
    const { next } = resumeAwaitingStudy(caseIn('awaiting_study', { awaitingStudyUntil: T0.toISOString() }), T0, { source: 'orthanc' });
    expect(next.status).toBe('retrieving');
    expect(next.awaitingStudyUntil).toBeUndefined();
  });
  it('refuses any other status, which makes a repeated event a no-op', () => {
    expect(() => resumeAwaitingStudy(caseIn('retrieving'), T0, { source: 'orthanc' })).toThrow(TransitionRefused);
  });
});
