import { describe, expect, it } from 'vitest';
import { TransitionRefused } from '../errors.js';
import { bareCaseIn as bare, caseIn, T0 } from '../review/test-cases.js';
import { endWaitIfDue, matchesStudyEvent, resumeAwaitingStudy } from './resume-waiting.js';

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

describe('endWaitIfDue', () => {
  const waiting = bare('awaiting_study', { awaitingStudyUntil: T0.toISOString() });
  it('makes a case ineligible once its wait is over, and leaves it waiting before', () => {
    expect(endWaitIfDue(waiting, new Date(T0.getTime() - 1))).toBeNull();
    expect(endWaitIfDue(waiting, T0)?.next).toMatchObject({ status: 'ineligible', ineligibleReasons: [`no eligible prior chest CT arrived by ${T0.toISOString()}`] });
    expect(endWaitIfDue(bare('retrieving'), T0)).toBeNull();
  });
});
