import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildChargeEvent, buildReversalEvent } from '../charge-event.js';
import { makeReview, makeSignedCase } from '../test-fixtures.js';
import { buildDftP03, hl7DateTime, messageControlId, xpnFromPersonName } from './dft-p03.js';
import { escapeHl7, unescapeHl7 } from './escape.js';

/** hl7-standard (an independent parser, CommonJS, no types): the slice of its API these tests use. */
type Hl7Value = string | Record<string, string> | Record<string, string>[] | null;
type Hl7Message = { transform(): void; get(field: string, index?: number): Hl7Value; getSegments(name?: string): { type: string }[] };
const HL7 = createRequire(import.meta.url)('hl7-standard') as new (raw: string) => Hl7Message;

function parse(message: string): Hl7Message {
  const m = new HL7(message);
  m.transform();
  return m;
}

const now = new Date('2026-11-27T17:00:00.000Z');
const opts = { now, sendingFacility: 'RADIOLOGY', receivingApplication: 'EPIC', receivingFacility: 'HOSP' } as const;
const charge = buildChargeEvent(makeSignedCase(), { mode: 'global', now });

describe('buildDftP03', () => {
  const msg = buildDftP03(charge, opts);
  const h = parse(msg);

  it('parses with an independent HL7 parser and FT1-25 reads 0877T in CPT (C4)', () => {
    expect(h.get('FT1.25')).toEqual({ 'FT1.25.1': '0877T', 'FT1.25.2': expect.stringContaining('previously acquired chest CT'), 'FT1.25.3': 'C4' });
    expect(h.getSegments().map((s) => s.type)).toEqual(['MSH', 'EVN', 'PID', 'PV1', 'FT1', 'DG1', 'DG1']);
  });

  it.each<[string, unknown]>([
    ['MSH.9', { 'MSH.9.1': 'DFT', 'MSH.9.2': 'P03', 'MSH.9.3': 'DFT_P03' }],
    ['MSH.10', messageControlId(charge.eventId)],
    ['MSH.12', '2.5.1'],
    ['MSH.18', 'UNICODE UTF-8'],
    ['EVN.1', 'P03'],
    ['PID.3', { 'PID.3.1': 'MRN-001', 'PID.3.2': '', 'PID.3.3': '', 'PID.3.4': 'RADIOLOGY', 'PID.3.5': 'MR' }],
    ['PID.5', { 'PID.5.1': 'DOE', 'PID.5.2': 'JANE' }],
    ['PID.7', '19610402'],
    ['PV1.2', 'O'],
    ['FT1.2', charge.eventId],
    ['FT1.4', '20261127'],
    ['FT1.6', 'CG'],
    ['FT1.10', '1'],
    ['FT1.14', 'medicare'],
    ['FT1.23', 'A123'],
    ['FT1.26', { 'FT1.26.1': 'GA', 'FT1.26.2': expect.stringMatching(/^Waiver of liability/), 'FT1.26.3': 'HCPCS' }],
    ['FT1.27.1', '3'],
    ['DG1.3', { 'DG1.3.1': 'J84.10', 'DG1.3.2': '', 'DG1.3.3': 'I10C' }],
    ['DG1.6', 'F'],
  ])('sets %s', (field, value) => {
    expect(h.get(field)).toEqual(value);
  });

  it('sends the diagnoses as FT1-19 repetitions, the signer as FT1-20 and the orderer as FT1-21, by NPI', () => {
    expect(msg).toMatch(/\|J84\.10\^\^I10C~R06\.00\^\^I10C\|1234567893\^Ada Reyes, MD\^.*\^NPI\|1245319599\^Lee Park, MD\^/);
    expect(h.get('FT1.20.1')).toBe('1234567893');
    expect(h.get('FT1.21.1')).toBe('1245319599');
  });

  it('uses CR between segments and the same bytes and MSH-10 on every redelivery', () => {
    expect(msg.split('\r').filter(Boolean)).toHaveLength(7);
    expect(msg).not.toMatch(/\n/);
    expect(buildDftP03(structuredClone(charge), opts)).toBe(msg);
    expect(messageControlId(charge.eventId)).toMatch(/^[0-9A-Z]{20}$/);
  });

  it('sends a reversal as FT1-6 CD with the same codes', () => {
    const rev = buildReversalEvent(charge, { now, reason: 'addendum: wrong series' });
    const r = parse(buildDftP03(rev, opts));
    expect(r.get('FT1.6')).toBe('CD');
    expect(r.get('FT1.25.1')).toBe('0877T');
    expect(r.get('FT1.2')).toBe(rev.eventId);
    expect(r.get('MSH.10')).not.toBe(h.get('MSH.10'));
  });

  it('sends one FT1 per line in split mode, with the physician 52 on 0880T only', () => {
    const c = makeSignedCase({ review: makeReview({ serviceModifier: { code: '52', reason: 'bases cut off' } }) });
    const text = buildDftP03(buildChargeEvent(c, { mode: 'split', now }), opts);
    const s = parse(text);
    expect(s.getSegments('FT1')).toHaveLength(2);
    expect(s.get('FT1.25.1', 0)).toBe('0879T');
    expect(s.get('FT1.25.1', 1)).toBe('0880T');
    // Repetitions (~) read from the raw segments: FT1-26 is the 27th '|'-field (the name is field 0).
    const ft1 = text.split('\r').filter((seg) => seg.startsWith('FT1|')).map((seg) => seg.split('|'));
    expect(ft1.map((f) => f[26]?.split('~').map((r) => r.split('^')[0]))).toEqual([['GA'], ['52', 'GA']]);
    expect(ft1[1]?.[26]).toMatch(/^52\^Reduced services\^C4~GA\^.*\^HCPCS$/);
  });

  it.each<[string, Parameters<typeof makeSignedCase>[0], string | undefined, string | Record<string, string> | null]>([
    ['Medicare without an ABN: GZ and ABN code 4', { coverage: { payer: 'medicare', memberId: 'M' } }, 'GZ', '4'],
    ['a commercial payer: no liability modifier, no ABN code', { coverage: { payer: 'cigna', memberId: 'M' } }, undefined, null],
  ])('%s', (_name, patch, modifier, abn) => {
    const m = parse(buildDftP03(buildChargeEvent(makeSignedCase(patch), { mode: 'global', now }), opts));
    expect(m.get('FT1.26.1') || undefined).toBe(modifier);
    expect(m.get('FT1.27.1') || null).toBe(abn);
  });

  it('escapes delimiters in names so that the structure survives (property, 300 random names)', () => {
    const text = fc.string({ unit: fc.constantFrom('|', '^', '~', '\\', '&', '\r', 'a', 'Z', ' ', ',', 'é'), minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(text, text, text, (family, given, physician) => {
        const c = makeSignedCase();
        c.patient.name = `${family.replaceAll('^', '').replaceAll('=', '')}^${given.replaceAll('^', '').replaceAll('=', '')}`;
        c.review = makeReview({ signer: { id: 'u', name: physician, npi: '1234567893' } });
        const e = buildChargeEvent(c, { mode: 'global', now });
        const m = parse(buildDftP03(e, opts));
        expect(m.getSegments().map((s) => s.type)).toEqual(['MSH', 'EVN', 'PID', 'PV1', 'FT1', 'DG1', 'DG1']);
        const [fam, giv] = c.patient.name.split('^');
        // hl7-standard splits but does not unescape: the escaped value comes back whole, in its place.
        expect(unescapeHl7(String(m.get('PID.5.1')))).toBe(fam);
        expect(unescapeHl7(String(m.get('PID.5.2') ?? ''))).toBe(giv);
        expect(unescapeHl7(String(m.get('FT1.20.2')))).toBe(physician);
        expect(m.get('FT1.25.1')).toBe('0877T');
      }),
      { numRuns: 300 },
    );
  });
});

describe('helpers', () => {
  it.each([
    ['DOE^JANE', 'DOE^JANE'],
    ['DOE^JANE^Q^DR^JR', 'DOE^JANE^Q^JR^DR'],
    ['DOE^JANE=山田^太郎', 'DOE^JANE'],
    ['O^BRIEN|X', 'O^BRIEN\\F\\X'],
  ])('maps the person name %s to the XPN %s', (pn, xpn) => expect(xpnFromPersonName(pn)).toBe(xpn));

  it('formats DTM in UTC', () => expect(hl7DateTime(new Date('2026-01-02T03:04:05.678Z'))).toBe('20260102030405+0000'));
  it('escapes the same way the parser expects', () => expect(escapeHl7('a|b')).toBe('a\\F\\b'));
});
