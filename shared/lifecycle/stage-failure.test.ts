import { describe, expect, it } from 'vitest';
import { caseIn, T0 } from '../review/test-cases.js';
import { failStage } from './stage-failure.js';

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
