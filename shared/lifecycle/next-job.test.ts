import { describe, expect, it } from 'vitest';
import type { ArtifactRef, Case } from '../domain/case.js';
import { REPORT_ARTIFACTS } from '../reports/report-refs.js';
import { caseIn, T0 } from '../review/test-cases.js';
import { endWaitIfDue, failStage, nextJob } from './next-job.js';

const stored = (name: string): ArtifactRef => ({ name, mediaType: 'application/dicom', sha256: 'x', bytes: 1, createdAt: T0.toISOString(), storedToPacsAt: T0.toISOString() });
const bare = (status: Case['status'], o: Partial<Case> = {}): Case => {
  const { result: _r, artifacts: _a, ...c } = caseIn(status, o);
  return { ...c, artifacts: [], ...o };
};

describe('nextJob', () => {
  it.each<[string, Case, ReturnType<typeof nextJob>]>([
    ['a queued case: its retrieve job', bare('queued', { attempt: 2 }), { caseId: caseIn('queued').id, attempt: 2, queue: 'retrieve' }],
    ['a retrieving case: the same retrieve job', bare('retrieving'), { caseId: caseIn('queued').id, attempt: 0, queue: 'retrieve' }],
    ['a resumed case: the resume’s retrieve job', bare('retrieving', { resumeVersion: 7 }), { caseId: caseIn('queued').id, attempt: 0, queue: 'retrieve', tag: 'resume-v7' }],
    ['a case awaiting its study: the deadline job', bare('awaiting_study', { awaitingStudyUntil: '2026-11-30T00:00:00.000Z' }),
      { caseId: caseIn('queued').id, attempt: 0, queue: 'retrieve', tag: `deadline-${Date.parse('2026-11-30T00:00:00.000Z')}`, notBefore: '2026-11-30T00:00:00.000Z' }],
    ['an analysing case without a result: analyze', bare('analyzing'), { caseId: caseIn('queued').id, attempt: 0, queue: 'analyze' }],
    ['an analysing case with a result: the preliminary report', caseIn('analyzing', { artifacts: [] }), { caseId: caseIn('queued').id, attempt: 0, queue: 'report', phase: 'preliminary' }],
    ['a signed case: the final report', caseIn('signed', { artifacts: [] }), { caseId: caseIn('queued').id, attempt: 0, queue: 'report', phase: 'final' }],
    ['a signed case whose documents the PACS holds: billing', caseIn('signed', { artifacts: [stored(REPORT_ARTIFACTS.srFinal), stored(REPORT_ARTIFACTS.pdfDicom)] }),
      { caseId: caseIn('queued').id, attempt: 0, queue: 'billing' }],
  ])('%s', (_what, c, want) => {
    expect(nextJob(c)).toEqual(want);
  });

  it.each(['on_hold', 'awaiting_review', 'in_review', 'billed', 'rejected', 'ineligible', 'failed', 'cancelled', 'reversed'] as const)('calls for no job when the case is %s', (s) => {
    expect(nextJob(caseIn(s))).toBeNull();
  });
});

describe('failStage', () => {
  const f = { stage: 'retrieve', reason: 'PACS down', attempts: 6 };
  it('fails a retrieving case, and records a later stage’s failure without a move', () => {
    expect(failStage(caseIn('retrieving'), T0, f)?.next.status).toBe('failed');
    expect(failStage(caseIn('signed'), T0, { ...f, stage: 'report' })?.next).toMatchObject({ status: 'signed', failure: { stage: 'report' } });
  });
  it('records one failure once, whoever reports it', () => {
    const once = failStage(caseIn('signed'), T0, f)!.next;
    expect(failStage(once, T0, f)).toBeNull();
    expect(failStage(caseIn('failed'), T0, f)).toBeNull();
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
