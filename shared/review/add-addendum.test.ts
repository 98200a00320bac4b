import { describe, expect, it } from 'vitest';
import type { AddendumBody, Case } from '../domain/case.js';
import { Forbidden, TransitionRefused, ValidationFailed } from '../errors.js';
import { buildChargeEvent, buildReversalEvent, effectiveDecision, type ChargeEvent } from '../billing/charge-event.js';
import { makeSignedCase } from '../billing/test-fixtures.js';
import { addAddendum } from './add-addendum.js';
import { ADA, ADMIN, BO, T0, minutes as minutesLater } from './test-cases.js';

const signed = (): Case => makeSignedCase();
function billed(): { c: Case; charge: ChargeEvent } {
  const s = signed();
  const charge = buildChargeEvent(s, { mode: 'global', now: T0 });
  return { c: { ...s, status: 'billed', billing: { eventIds: [charge.eventId], codes: ['0877T'], billedAt: T0.toISOString() } }, charge };
}
const none = { charges: [] as ChargeEvent[], build: buildReversalEvent };

describe('addAddendum', () => {
  it('appends text to a signed case without changing its status', () => {
    const { next } = addAddendum(signed(), ADA, { text: 'Comparison with 2024 CT: stable.' }, T0, none);
    expect(next.status).toBe('signed');
    expect(next.review?.addenda).toEqual([{ at: T0.toISOString(), by: { id: ADA.id, name: ADA.name, npi: ADA.npi }, text: 'Comparison with 2024 CT: stable.' }]);
  });

  it('lets an admin add an addendum, and nobody else but the signer', () => {
    expect(addAddendum(signed(), ADMIN, { text: 'coding note' }, T0, none).next.review?.addenda).toHaveLength(1);
    expect(() => addAddendum(signed(), BO, { text: 'x' }, T0, none)).toThrow(Forbidden);
  });

  it('changes the classification on an amend, and needs one', () => {
    const { next } = addAddendum(signed(), ADA, { text: 'on review', decision: 'amend', classification: { category: 'indeterminate', rationale: [] }, attestation: true }, T0, none);
    expect(next.review?.classification.category).toBe('indeterminate');
    expect(() => addAddendum(signed(), ADA, { text: 'x', decision: 'amend' }, T0, none)).toThrow(ValidationFailed);
  });

  it('reverses a billed case rejected by addendum, with one reversal per charge in the same change', () => {
    const { c, charge } = billed();
    const { next, events } = addAddendum(c, ADA, { text: 'wrong patient series', decision: 'reject', attestation: true }, T0, { charges: [charge], build: buildReversalEvent });
    expect(next.status).toBe('reversed');
    expect(events).toHaveLength(1);
    const rev = events![0]!.event as ChargeEvent;
    expect(rev).toMatchObject({ kind: 'reversal', transactionType: 'CD', reverses: charge.eventId });
    expect(next.billing?.reversalEventIds).toEqual([rev.eventId]);
  });

  it('refuses (409, retry) a billed case whose charge events were not found', () => {
    expect(() => addAddendum(billed().c, ADA, { text: 'x', decision: 'reject', attestation: true }, T0, none)).toThrow(TransitionRefused);
  });

  it('moves a signed, not yet billed case to rejected so that no charge is built', () => {
    const { next, events } = addAddendum(signed(), ADA, { text: 'artefact', decision: 'reject', attestation: true }, T0, none);
    expect(next.status).toBe('rejected');
    expect(events ?? []).toHaveLength(0);
    expect(effectiveDecision(next.review!)).toBe('reject');
    expect(() => buildChargeEvent(next, { mode: 'global', now: T0 })).toThrow(/rejected/);
  });

  const amend: AddendumBody = { text: 'on re-read', decision: 'amend', classification: { category: 'uip', rationale: ['honeycombing'] }, attestation: true };

  it('refuses an admin any change of decision or classification: an admin adds text only', () => {
    for (const body of [amend, { text: 'withdrawn', decision: 'reject', attestation: true } satisfies AddendumBody])
      expect(() => addAddendum(signed(), ADMIN, body, T0, none)).toThrow(Forbidden);
    const doctorAdmin = { ...ADMIN, npi: '1245319599' };
    expect(() => addAddendum(signed(), doctorAdmin, amend, T0, none)).toThrow(Forbidden); // an NPI alone is not a radiologist
  });

  it('records an amending addendum as its own signature (signer by NPI, time, attestation); the first signer stays', () => {
    const { next } = addAddendum(signed(), ADA, amend, minutesLater(90), none);
    expect(next.review?.signer).toEqual(signed().review!.signer);
    expect(next.review?.addenda.at(-1)).toEqual({
      at: minutesLater(90).toISOString(),
      by: { id: ADA.id, name: ADA.name, npi: ADA.npi },
      text: 'on re-read',
      decision: 'amend',
      classification: amend.classification,
      attestation: true,
      attestationText: expect.stringMatching(/I amend its classification as recorded in this addendum\.$/),
    });
  });

  it('needs the attestation for a change of decision, and a classification only with amend', () => {
    expect(() => addAddendum(signed(), ADA, { ...amend, attestation: undefined }, T0, none)).toThrow(ValidationFailed);
    expect(() => addAddendum(signed(), ADA, { text: 'x', classification: amend.classification }, T0, none)).toThrow(ValidationFailed);
  });

  it.each(['in_review', 'rejected', 'reversed', 'queued'] as const)('refuses a %s case', (s) => {
    expect(() => addAddendum({ ...signed(), status: s }, ADA, { text: 'x' }, T0, none)).toThrow(TransitionRefused);
  });
});
