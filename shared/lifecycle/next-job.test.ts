import { describe, expect, it } from 'vitest';
import type { ArtifactRef, Case } from '../domain/case.js';
import { REPORT_ARTIFACTS } from '../reports/report-refs.js';
import { bareCaseIn as bare, caseIn, T0 } from '../review/test-cases.js';
import { nextJob } from './next-job.js';

const stored = (name: string): ArtifactRef => ({ name, mediaType: 'application/dicom', sha256: 'x', bytes: 1, createdAt: T0.toISOString(), storedToPacsAt: T0.toISOString() });

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
