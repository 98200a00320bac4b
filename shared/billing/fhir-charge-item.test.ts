import { R4 } from '@ahryman40k/ts-fhir-types';
import { describe, expect, it } from 'vitest';
import { buildChargeEvent, buildReversalEvent } from './charge-event.js';
import { buildChargeItems, chargeItemId, ChargeItemInvalid, CPT_SYSTEM, validateChargeItem } from './fhir-charge-item.js';
import { makeSignedCase } from './test-fixtures.js';

const now = new Date('2026-11-27T17:00:00.000Z');
const charge = buildChargeEvent(makeSignedCase(), { mode: 'global', now });

describe('buildChargeItems', () => {
  const [item] = buildChargeItems(charge);

  it('builds one R4 ChargeItem that decodes with the R4 runtime type', () => {
    expect(R4.RTTI_ChargeItem.decode(item)._tag).toBe('Right');
    expect(validateChargeItem(item)).toEqual([]);
  });

  it.each<[string, (i: R4.IChargeItem) => unknown, unknown]>([
    ['status', (i) => i.status, 'billable'],
    ['code 0877T in the CPT system', (i) => i.code.coding?.[0], expect.objectContaining({ system: CPT_SYSTEM, code: '0877T' })],
    ['subject by MRN', (i) => i.subject, expect.objectContaining({ type: 'Patient', identifier: expect.objectContaining({ value: 'MRN-001' }) })],
    ['occurrence: the date of service', (i) => i.occurrenceDateTime, '2026-11-27'],
    ['performer: the signer by NPI', (i) => i.performer?.[0]?.actor.identifier, { system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' }],
    ['reason: the ICD-10-CM diagnoses', (i) => i.reason?.map((r) => r.coding?.[0]?.code), ['J84.10', 'R06.00']],
    ['service → DiagnosticReport and ImagingStudy', (i) => i.service?.map((s) => s.type), ['DiagnosticReport', 'ImagingStudy']],
    ['product → the engine as a contained Device', (i) => [i.productReference?.reference, (i.contained?.[0] as { resourceType?: string })?.resourceType], ['#engine', 'Device']],
    ['quantity 1', (i) => i.quantity?.value, 1],
    ['the GA modifier as an extension', (i) => i.extension?.find((e) => e.valueCoding)?.valueCoding?.code, 'GA'],
    ['the stable event id as an identifier', (i) => i.identifier?.[0]?.value, charge.eventId],
  ])('sets %s', (_name, read, expected) => {
    expect(read(item!)).toEqual(expected);
  });

  it('gives one item per line in split mode', () => {
    const items = buildChargeItems(buildChargeEvent(makeSignedCase(), { mode: 'split', now }));
    expect(items.map((i) => i.code.coding?.[0]?.code)).toEqual(['0879T', '0880T']);
    expect(new Set(items.map((i) => i.id)).size).toBe(2);
  });

  it('sends a reversal as the same ChargeItem (same id), not-billable, with the reason', () => {
    const rev = buildReversalEvent(charge, { now, reason: 'addendum: wrong patient' });
    const [r] = buildChargeItems(rev);
    expect(r?.id).toBe(item?.id);
    expect(r?.id).toBe(chargeItemId(charge, '0877T'));
    expect(r?.status).toBe('not-billable');
    expect(r?.note?.[0]?.text).toMatch(/wrong patient/);
  });
});

describe('validateChargeItem', () => {
  const [item] = buildChargeItems(charge);
  it.each<[string, (i: Record<string, unknown>) => void, RegExp]>([
    ['an unknown status', (i) => (i.status = 'done'), /status/],
    ['no status (1..1 in R4, optional in the generated type)', (i) => delete i.status, /status: required/],
    ['no code', (i) => delete i.code, /code/],
    ['no subject', (i) => delete i.subject, /subject/],
    ['a quantity that is not a number', (i) => (i.quantity = { value: 'one' }), /quantity/],
    ['an occurrence that is not a dateTime', (i) => (i.occurrenceDateTime = '27/11/2026'), /occurrenceDateTime/],
    ['another resource type', (i) => (i.resourceType = 'Claim'), /resourceType/],
  ])('refuses %s', (_name, mutate, message) => {
    const bad = structuredClone(item) as unknown as Record<string, unknown>;
    mutate(bad);
    expect(validateChargeItem(bad).join('\n')).toMatch(message);
  });

  it('makes buildChargeItems throw ChargeItemInvalid on an invalid date of service', () => {
    const e = structuredClone(charge);
    e.createdAt = 'not a date' as string;
    expect(() => buildChargeItems(e)).toThrow(ChargeItemInvalid);
  });
});
