import { describe, expect, it } from 'vitest';
import { TransitionRefused } from '../errors.js';
import { bareCaseIn, caseIn, T0 } from '../review/test-cases.js';
import { buildChargeEvent } from '../billing/charge-event.js';
import { makeSignedCase } from '../billing/test-fixtures.js';
import { becomeIneligible, billSigned, preliminaryReportReady, seriesRetrieved, startAwaitingStudy, startRetrieving } from './stage-outcomes.js';

describe('the stages’ moves', () => {
  it('starts retrieving a queued case, and refuses one cancelled meanwhile', () => {
    expect(startRetrieving(bareCaseIn('queued'))).toMatchObject({ next: { status: 'retrieving' }, reason: 'looking for the prior chest CT' });
    expect(() => startRetrieving(bareCaseIn('cancelled'))).toThrow(TransitionRefused);
  });

  it('waits for the study until the deadline, saying why and until when', () => {
    const until = T0.toISOString();
    expect(startAwaitingStudy(bareCaseIn('retrieving'), until, ['no CT study of this patient in the PACS'])).toMatchObject({
      next: { status: 'awaiting_study', awaitingStudyUntil: until },
      reason: `no CT study of this patient in the PACS; waiting for the PACS until ${until}`,
    });
  });

  it('records the reasons of an ineligible case, with its own summary when given one', () => {
    expect(becomeIneligible(bareCaseIn('retrieving'), ['a', 'b'])).toMatchObject({ next: { status: 'ineligible', ineligibleReasons: ['a', 'b'] }, reason: 'a; b' });
    expect(becomeIneligible(bareCaseIn('analyzing'), ['too thick'], 'the series fails the engine: too thick').reason).toBe('the series fails the engine: too thick');
  });

  it('takes the retrieved series into analysis, dropping a purged spool and a disk wait', () => {
    const waiting = bareCaseIn('retrieving', {
      spool: { purgedAt: T0.toISOString(), bytes: 1 },
      diskWait: { since: T0.toISOString(), checks: 1, retryAt: T0.toISOString(), reason: 'low', version: 3 },
    });
    const { next } = seriesRetrieved(waiting, caseIn('analyzing').source!, 'retrieved 64 images');
    expect(next).toMatchObject({ status: 'analyzing', source: caseIn('analyzing').source });
    expect(next.spool).toBeUndefined();
    expect(next.diskWait).toBeUndefined();
  });

  it('puts an analysed case in the review queue with its preliminary documents, replacing one of the same name', () => {
    const doc = (name: string, sha256: string) => ({ name, mediaType: 'application/json', sha256, bytes: 1, createdAt: T0.toISOString() });
    const analysed = caseIn('analyzing', { artifacts: [doc('a.json', 'old'), doc('b.json', 'keep')] });
    const { next, reason } = preliminaryReportReady(analysed, [doc('a.json', 'new'), doc('c.json', 'new')])!;
    expect(next.status).toBe('awaiting_review');
    expect(next.artifacts.map((a) => `${a.name}:${a.sha256}`)).toEqual(['b.json:keep', 'a.json:new', 'c.json:new']);
    expect(reason).toBe(`preliminary report ready (${analysed.result!.classification.category}); in the review queue`);
    expect(preliminaryReportReady(caseIn('cancelled'), [])).toBeNull();
  });

  it('bills a signed case with its one charge event in the same step, and does nothing once billed or rejected', () => {
    const build = (c: Parameters<typeof buildChargeEvent>[0]) => buildChargeEvent(c, { mode: 'global', now: T0 });
    const change = billSigned(makeSignedCase(), T0, build)!;
    const charge = build(makeSignedCase());
    expect(change.next).toMatchObject({ status: 'billed', billing: { eventIds: [charge.eventId], codes: ['0877T'], billedAt: T0.toISOString() } });
    expect(change.events).toEqual([{ eventId: charge.eventId, event: charge }]);
    expect(change.reason).toMatch(new RegExp(`^charge ${charge.eventId}: 0877T`));
    for (const status of ['billed', 'rejected'] as const) expect(billSigned(makeSignedCase({ status }), T0, build)).toBeNull();
  });
});
