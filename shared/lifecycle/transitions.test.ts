/**
 * The lifecycle walked as a table (docs/design.md §4): every status has the successors the contract gives it,
 * the contract's table and the code's agree, and every decision runs only from the statuses it is meant for — from any other it refuses (TransitionRefused,
 * 409, or null: nothing to do), and where it runs, it proposes a move the table allows. Both tables are keyed
 * by every status, so a status added without its rules fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CASE_STATUSES, type Case, type CaseStatus } from '../domain/case.js';
import { buildChargeEvent } from '../billing/charge-event.js';
import { makeSignedCase } from '../billing/test-fixtures.js';
import { TransitionRefused } from '../errors.js';
import { ADMIN, T0, caseIn, claimedBy, minutes } from '../review/test-cases.js';
import type { Change } from '../store/case-store.js';
import { cancelCase } from './cancel-case.js';
import { holdIfIdentifiersDiffer, reconcileCase } from './identity-hold.js';
import { expireLease } from './lease-expiry.js';
import { endWaitIfDue, resumeAwaitingStudy } from './resume-waiting.js';
import { retryCase } from './retry-case.js';
import { failStage } from './stage-failure.js';
import { becomeIneligible, billSigned, preliminaryReportReady, seriesRetrieved, startAwaitingStudy, startRetrieving } from './stage-outcomes.js';
import { canTransition, TERMINAL, TRANSITIONS } from './transitions.js';

/** docs/design.md §4's table, as written there: each status's row and the statuses its last column names. */
function contractTable(): Record<string, CaseStatus[]> {
  const doc = readFileSync(new URL('../../docs/design.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## 4. Case lifecycle'), doc.indexOf('## 5.'));
  const rows = section.split('\n').filter((l) => /^\| `[a-z_]+` \|/.test(l));
  return Object.fromEntries(
    rows.map((row) => {
      const cells = row.split('|').map((c) => c.trim());
      return [cells[1]!.replaceAll('`', ''), [...cells[3]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as CaseStatus)];
    }),
  );
}

/** The moves the code allows beyond that table, each explained in the note under it (and in transitions.ts). */
const DEPARTURES: readonly (readonly [CaseStatus, CaseStatus])[] = [
  ['awaiting_study', 'cancelled'],
  ['signed', 'rejected'],
];

const SUCCESSORS = contractTable();
for (const [from, to] of DEPARTURES) SUCCESSORS[from] = [...(SUCCESSORS[from] ?? []), to];

describe('the transition table', () => {
  it('has rules for every status, and only for statuses, in the code and in docs/design.md §4', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...CASE_STATUSES].sort());
    expect(Object.keys(SUCCESSORS).sort()).toEqual([...CASE_STATUSES].sort());
  });

  it.each(CASE_STATUSES)('gives %s exactly its successors', (from) => {
    expect([...TRANSITIONS[from]].sort()).toEqual([...SUCCESSORS[from]!].sort());
    for (const to of CASE_STATUSES) expect(canTransition(from, to)).toBe(SUCCESSORS[from]!.includes(to));
  });

  it('ends in the four terminal statuses, and every status is reached from an order', () => {
    expect([...TERMINAL].sort()).toEqual(['cancelled', 'ineligible', 'rejected', 'reversed']);
    const reached = new Set<CaseStatus>(['queued']);
    for (let grew = true; grew; ) {
      const before = reached.size;
      for (const s of [...reached]) for (const to of TRANSITIONS[s]) reached.add(to);
      grew = reached.size > before;
    }
    expect([...reached].sort()).toEqual([...CASE_STATUSES].sort());
  });
});

const OTHER_PATIENT = { studyInstanceUid: '1.2.3.4', patientId: 'MRN-001', patientName: 'ZWICKY^OTTO', birthDate: '19330303' };
const held = (s: CaseStatus): Case => caseIn(s, { hold: { at: T0.toISOString(), differs: ['birthDate'], study: OTHER_PATIENT } });
const reportFailed = (s: CaseStatus): Case => caseIn(s, { failure: { stage: 'report', reason: 'the PACS refused the STOW', at: T0.toISOString(), attempts: 5 } });

type Decision = Readonly<{
  /** The decision, applied to a case in a status, prepared as that decision needs it (a hold, a failure, …). */
  run: (s: CaseStatus) => Change | null;
  /** Where it may run, and the status it leaves the case in from there. */
  from: Partial<Record<CaseStatus, CaseStatus>>;
}>;

const DECISIONS: Record<string, Decision> = {
  cancelCase: {
    run: (s) => cancelCase(caseIn(s), ADMIN, T0),
    from: { queued: 'cancelled', awaiting_study: 'cancelled', on_hold: 'cancelled', awaiting_review: 'cancelled' },
  },
  retryCase: {
    run: (s) => retryCase(reportFailed(s), ADMIN, T0),
    from: { failed: 'queued', signed: 'signed' },
  },
  resumeAwaitingStudy: { run: (s) => resumeAwaitingStudy(caseIn(s), T0, { source: 'test' }), from: { awaiting_study: 'retrieving' } },
  endWaitIfDue: { run: (s) => endWaitIfDue(caseIn(s, { awaitingStudyUntil: T0.toISOString() }), T0), from: { awaiting_study: 'ineligible' } },
  holdIfIdentifiersDiffer: { run: (s) => holdIfIdentifiersDiffer(caseIn(s), T0, OTHER_PATIENT), from: { retrieving: 'on_hold' } },
  'reconcileCase (confirm)': { run: (s) => reconcileCase(held(s), ADMIN, T0, { decision: 'confirm', reason: 'same patient' }), from: { on_hold: 'retrieving' } },
  'reconcileCase (cancel)': { run: (s) => reconcileCase(held(s), ADMIN, T0, { decision: 'cancel', reason: 'another patient' }), from: { on_hold: 'cancelled' } },
  expireLease: { run: (s) => expireLease({ ...claimedBy(ADMIN, minutes(30)), status: s }, minutes(31)), from: { in_review: 'awaiting_review' } },
  startRetrieving: { run: (s) => startRetrieving(caseIn(s)), from: { queued: 'retrieving' } },
  startAwaitingStudy: { run: (s) => startAwaitingStudy(caseIn(s), T0.toISOString(), ['no CT study of this patient in the PACS']), from: { retrieving: 'awaiting_study' } },
  seriesRetrieved: { run: (s) => seriesRetrieved(caseIn(s), caseIn(s).source!, 'retrieved 64 images'), from: { retrieving: 'analyzing' } },
  becomeIneligible: { run: (s) => becomeIneligible(caseIn(s), ['every series is too thick']), from: { retrieving: 'ineligible', analyzing: 'ineligible' } },
  preliminaryReportReady: { run: (s) => preliminaryReportReady(caseIn(s), []), from: { analyzing: 'awaiting_review' } },
  billSigned: { run: (s) => billSigned(makeSignedCase({ status: s }), T0, (c) => buildChargeEvent(c, { mode: 'global', now: T0 })), from: { signed: 'billed' } },
  // A stage's failure is recorded from wherever its job can run; only retrieval and analysis move to failed.
  failStage: {
    run: (s) => failStage(caseIn(s), T0, { stage: 'report', reason: 'the PACS refused the STOW', attempts: 5 }),
    from: Object.fromEntries(CASE_STATUSES.filter((s) => s !== 'failed').map((s) => [s, s === 'retrieving' || s === 'analyzing' ? 'failed' : s])),
  },
};

/** The decision's answer: the status it proposes, or 'refused'. */
function outcome(d: Decision, s: CaseStatus): CaseStatus | 'refused' {
  try {
    return d.run(s)?.next.status ?? 'refused';
  } catch (err) {
    if (err instanceof TransitionRefused) return 'refused';
    throw err;
  }
}

describe.each(Object.entries(DECISIONS))('%s', (_name, d) => {
  it.each(CASE_STATUSES)('from %s: runs only where it may, and only along the table', (s) => {
    const want = d.from[s];
    const got = outcome(d, s);
    expect(got).toBe(want ?? 'refused');
    if (want && want !== s) expect(canTransition(s, want)).toBe(true);
  });
});
