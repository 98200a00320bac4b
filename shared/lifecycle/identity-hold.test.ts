import { describe, expect, it } from 'vitest';
import type { Case } from '../domain/case.js';
import { TransitionRefused } from '../errors.js';
import { ADMIN, caseIn, T0 } from '../review/test-cases.js';
import { holdIfIdentifiersDiffer, reconcileCase, type HeldStudy } from './identity-hold.js';
import { nextJob } from './next-job.js';

const retrieving = (o: Partial<Case> = {}) => {
  const { result: _r, source: _s, ...c } = caseIn('retrieving', o);
  return c as Case;
};
const c0 = retrieving();
const SAME: HeldStudy = { studyInstanceUid: '1.2.3.4', accessionNumber: 'A1', patientId: c0.patient.id, patientName: c0.patient.name.toLowerCase(), birthDate: c0.patient.birthDate.replaceAll('-', '') };
const OTHER: HeldStudy = { ...SAME, patientName: 'ZWICKY^OTTO', birthDate: '19330303' };

describe('holdIfIdentifiersDiffer', () => {
  it('lets a study whose identifiers agree through', () => {
    expect(holdIfIdentifiersDiffer(c0, T0, SAME)).toBeNull();
  });

  it('holds a study whose MRN matches but whose birth date and name do not, naming the identifiers without their values', () => {
    const change = holdIfIdentifiersDiffer(c0, T0, OTHER)!;
    expect(change.next.status).toBe('on_hold');
    expect(change.next.hold).toEqual({ at: T0.toISOString(), differs: ['birthDate', 'familyName'], study: { studyInstanceUid: '1.2.3.4', accessionNumber: 'A1', patientId: c0.patient.id, patientName: 'ZWICKY^OTTO', birthDate: '19330303' } });
    expect(change.reason).toMatch(/birth date and family name differ/);
    for (const value of ['ZWICKY', '19330303', c0.patient.name, c0.patient.birthDate]) expect(change.reason).not.toContain(value);
  });

  it('takes a study an admin confirmed, but checks any other study again', () => {
    const confirmed = retrieving({ identityConfirmed: { studyInstanceUid: '1.2.3.4', by: 'u-admin', at: T0.toISOString(), reason: 'checked' } });
    expect(holdIfIdentifiersDiffer(confirmed, T0, OTHER)).toBeNull();
    expect(holdIfIdentifiersDiffer(confirmed, T0, { ...OTHER, studyInstanceUid: '1.2.3.5' })?.next.status).toBe('on_hold');
  });

  it('decides nothing for a case no longer retrieving', () => {
    expect(holdIfIdentifiersDiffer(caseIn('cancelled'), T0, OTHER)).toBeNull();
  });
});

describe('reconcileCase', () => {
  const held = holdIfIdentifiersDiffer(c0, T0, OTHER)!.next;

  it('confirm: back to retrieving with a fresh retrieve job that takes the held study', () => {
    const change = reconcileCase({ ...held, version: 4 }, ADMIN, T0, { decision: 'confirm', reason: 'registration merged two MRNs' });
    expect(change.next.status).toBe('retrieving');
    expect(change.next.hold).toBeUndefined();
    expect(change.next.identityConfirmed).toEqual({ studyInstanceUid: '1.2.3.4', by: 'u-admin', at: T0.toISOString(), reason: 'registration merged two MRNs' });
    expect(nextJob(change.next)).toMatchObject({ queue: 'retrieve', tag: 'resume-v5' });
    expect(change.reason).toMatch(/confirmed by u-admin/);
    expect(holdIfIdentifiersDiffer(change.next, T0, OTHER)).toBeNull();
  });

  it('cancel: the order ends, the hold stays as the reason', () => {
    const change = reconcileCase(held, ADMIN, T0, { decision: 'cancel', reason: 'another patient’s CT under this MRN' });
    expect(change.next.status).toBe('cancelled');
    expect(change.next.hold?.differs).toEqual(['birthDate', 'familyName']);
    expect(change.reason).toMatch(/not confirmed; cancelled by u-admin/);
  });

  it('refuses a case that is not on hold', () => {
    expect(() => reconcileCase(c0, ADMIN, T0, { decision: 'confirm', reason: 'x' })).toThrow(TransitionRefused);
  });
});
