import { describe, expect, it } from 'vitest';
import { buildChargeEvent, buildReversalEvent, ChargeEvent, chargeEventId, effectiveDecision } from './charge-event.js';
import { ChargeNotBuildable } from './errors.js';
import { makeEngineResult, makeReview, makeSignedCase, makeSource, FIXTURE_NPI, FIXTURE_UIDS } from './test-fixtures.js';
import { DEFAULT_PAYER_ADVISORIES } from './payer-advisories.js';
import type { Case } from '../domain/case.js';
import type { BillingMode } from './select-codes.js';

const now = new Date('2026-11-27T17:00:00.000Z');

function thrown(fn: () => unknown): ChargeNotBuildable {
  try {
    fn();
  } catch (err) {
    if (err instanceof ChargeNotBuildable) return err;
    throw err;
  }
  throw new Error('expected ChargeNotBuildable');
}

describe('buildChargeEvent', () => {
  it('builds a valid 0877T charge with full documentation for the signed fixture case', () => {
    const e = buildChargeEvent(makeSignedCase(), { mode: 'global', now });
    expect(ChargeEvent.parse(e)).toEqual(e);
    expect(e).toMatchObject({
      schema: 'ildflow.charge-event/1',
      eventId: 'chg-c-7f3a9e2b-0877T',
      kind: 'charge',
      transactionType: 'CG',
      caseId: 'c-7f3a9e2b',
      payer: 'medicare',
      patient: { id: 'MRN-001', name: 'DOE^JANE', birthDate: '1961-04-02', sex: 'F' },
      coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: '2026-11-27' } },
      lines: [{ code: '0877T', units: 1, modifiers: ['GA'], component: 'global' }],
      diagnoses: ['J84.10', 'R06.00'],
      denialExpected: true,
      createdAt: '2026-11-27T17:00:00.000Z',
    });
    expect(e.documentation).toEqual({
      order: { id: 'ORD-1001', orderingProvider: { npi: FIXTURE_NPI.orderer, name: 'Lee Park, MD' }, indications: ['J84.10', 'R06.00'] },
      sourceStudy: {
        accessionNumber: 'A123',
        studyInstanceUid: FIXTURE_UIDS.study,
        seriesInstanceUid: FIXTURE_UIDS.series,
        acquisitionDate: '2026-10-02',
        sliceCount: 312,
        sliceThicknessMm: 1,
      },
      engine: { id: 'reference', name: 'ildflow reference QCT engine', version: '1.0.0', regulatoryStatus: 'research', authorization: undefined },
      result: {
        category: 'uip',
        engineCategory: 'uip',
        quantities: { fibrosisExtentPercent: 19.5, honeycombingPercent: 5.3, haaPercent: 17.4, laa950Percent: 2.1, lungVolumeMl: 3820 },
      },
      review: {
        decision: 'accept',
        physician: { name: 'Ada Reyes, MD', npi: FIXTURE_NPI.signer },
        attestation: expect.stringContaining('personally reviewed'),
        signedAt: '2026-11-27T16:30:00.000Z',
        serviceModifier: undefined,
      },
      reports: { srSopInstanceUid: undefined, pdfSha256: makeSignedCase().artifacts[0]?.sha256, fhirDiagnosticReportId: undefined },
      dates: { ctAcquired: '2026-10-02', analysisPerformed: '2026-11-27T14:05:01.640Z', signed: '2026-11-27T16:30:00.000Z', dateOfService: '2026-11-27' },
    });
  });

  it('carries the payer advisories and a research-engine advisory', () => {
    const e = buildChargeEvent(makeSignedCase(), { mode: 'global', now });
    expect(e.advisories).toEqual(expect.arrayContaining([expect.stringMatching(/no NCD or LCD/), expect.stringMatching(/research use only/)]));
  });

  it.each<[string, BillingMode, Partial<Case['order']>, string, string[]]>([
    ['a prior CT in global mode', 'global', {}, 'chg-c-7f3a9e2b-0877T', ['0877T']],
    ['a CT in the same encounter', 'global', { encounterDate: '2026-10-02' }, 'chg-c-7f3a9e2b-0878T', ['0878T']],
    ['split mode', 'split', {}, 'chg-c-7f3a9e2b-0879T-0880T', ['0879T', '0880T']],
  ])('bills %s with a deterministic event id', (_name, mode, order, eventId, codes) => {
    const c = makeSignedCase();
    c.order = { ...c.order, ...order };
    const a = buildChargeEvent(c, { mode, now });
    const b = buildChargeEvent(structuredClone(c), { mode, now: new Date('2027-01-01T00:00:00Z') });
    expect(a.eventId).toBe(eventId);
    expect(b.eventId).toBe(eventId);
    expect(a.lines.map((l) => l.code)).toEqual(codes);
  });

  it.each<[string, Partial<Case>, string[][]]>([
    ['Medicare with a signed ABN', {}, [['GA']]],
    ['Medicare without an ABN', { coverage: { payer: 'medicare', memberId: 'M' } }, [['GZ']]],
    ['UHC with an ABN', { coverage: { payer: 'uhc', memberId: 'M', abn: { signed: true } } }, [[]]],
    ['a reduced service', { review: makeReview({ serviceModifier: { code: '52', reason: 'lung bases not imaged' } }) }, [['52', 'GA']]],
  ])('puts the right modifiers on the line for %s', (_name, patch, modifiers) => {
    const e = buildChargeEvent(makeSignedCase(patch), { mode: 'global', now });
    expect(e.lines.map((l) => l.modifiers)).toEqual(modifiers);
  });

  it('puts the physician 52 on the professional line only in split mode, and documents the reason', () => {
    const c = makeSignedCase({ review: makeReview({ serviceModifier: { code: '52', reason: 'lung bases not imaged' } }) });
    const e = buildChargeEvent(c, { mode: 'split', now });
    expect(e.lines.map((l) => [l.code, l.modifiers])).toEqual([
      ['0879T', ['GA']],
      ['0880T', ['52', 'GA']],
    ]);
    expect(e.documentation.review.serviceModifier).toEqual({ code: '52', reason: 'lung bases not imaged' });
  });

  it('documents the physician category when the physician amended it', () => {
    const c = makeSignedCase({ review: makeReview({ decision: 'amend', classification: { category: 'probable_uip', rationale: ['no honeycombing'] } }) });
    const e = buildChargeEvent(c, { mode: 'global', now });
    expect(e.documentation.result).toMatchObject({ category: 'probable_uip', engineCategory: 'uip' });
    expect(e.documentation.review.decision).toBe('amend');
  });

  it('reads the date of service in the facility time zone when given', () => {
    const c = makeSignedCase({ result: makeEngineResult({ timings: { startedAt: '2026-11-28T02:00:00Z', finishedAt: '2026-11-28T02:00:02Z', durationMs: 2000 } }) });
    expect(buildChargeEvent(c, { mode: 'global', now }).documentation.dates.dateOfService).toBe('2026-11-28');
    expect(buildChargeEvent(c, { mode: 'global', now, timeZone: 'America/New_York' }).documentation.dates.dateOfService).toBe('2026-11-27');
  });

  it('falls back to the study date when the series has no acquisition date', () => {
    const c = makeSignedCase({ source: makeSource({ acquisitionDate: undefined, studyDate: '20260915' }) });
    expect(buildChargeEvent(c, { mode: 'global', now }).documentation.dates.ctAcquired).toBe('2026-09-15');
  });

  it('takes report references from the caller and the latest PDF from the artifacts', () => {
    const c = makeSignedCase();
    c.artifacts.push(
      { name: 'report-verified.pdf', mediaType: 'application/pdf', sha256: 'b'.repeat(64), bytes: 1, createdAt: '2026-11-27T16:31:00.000Z' },
      { name: 'report.fhir.json', mediaType: 'application/fhir+json', sha256: 'c'.repeat(64), bytes: 1, createdAt: '2026-11-27T16:31:00.000Z' },
    );
    const e = buildChargeEvent(c, { mode: 'global', now, reports: { srSopInstanceUid: '1.2.3.4' } });
    expect(e.documentation.reports).toEqual({ srSopInstanceUid: '1.2.3.4', pdfSha256: 'b'.repeat(64), fhirDiagnosticReportId: 'ildflow-c-7f3a9e2b' });
  });

  it('uses a caller-supplied advisory table', () => {
    const table = { ...DEFAULT_PAYER_ADVISORIES, medicare: { advisories: ['MAC covers it'], denialExpected: false } };
    const e = buildChargeEvent(makeSignedCase({ coverage: { payer: 'medicare', memberId: 'M' } }), { mode: 'global', now, advisoryTable: table });
    expect(e.denialExpected).toBe(false);
    expect(e.lines[0]?.modifiers).toEqual([]);
    expect(e.advisories[0]).toBe('MAC covers it');
  });

  it.each<[string, (c: Case) => void, RegExp]>([
    ['there is no review', (c) => delete c.review, /no signed review/],
    ['the physician rejected the result', (c) => (c.review = makeReview({ decision: 'reject', comment: 'motion artefact' })), /rejected/],
    ['an addendum turned the result into a rejection', (c) => c.review?.addenda.push({ at: '2026-11-28T09:00:00Z', by: c.review.signer, text: 'wrong patient', decision: 'reject' }), /rejected/],
    ['there is no source series', (c) => delete c.source, /no source series/],
    ['there is no engine result', (c) => delete c.result, /no engine result/],
    ['the result is for another series', (c) => (c.source = makeSource({ seriesInstanceUid: '1.2.3.999' })), /another series/],
    ['the physician signed another engine version', (c) => (c.review = makeReview({ shown: { engineId: 'reference', engineVersion: '0.9.0', resultSha256: 'a'.repeat(64) } })), /another engine or version/],
    ['the signer NPI is invalid', (c) => (c.review = makeReview({ signer: { id: 'u', name: 'X', npi: '1234567890' } })), /NPI/],
    ['the CT has no date', (c) => (c.source = makeSource({ acquisitionDate: undefined, studyDate: undefined })), /no readable acquisition or study date/],
    ['the CT is dated after the encounter', (c) => (c.source = makeSource({ acquisitionDate: '20261201' })), /after the order's encounter/],
    ['a diagnosis is a category header', (c) => (c.order.indications = ['R05']), /diagnosis: R05 is a category header/],
  ])('refuses when %s', (_name, mutate, message) => {
    const c = makeSignedCase();
    mutate(c);
    const err = thrown(() => buildChargeEvent(c, { mode: 'global', now }));
    expect(err.status).toBe(422);
    expect(err.retryable).toBe(false);
    expect(err.reasons.join('; ')).toMatch(message);
  });

  it('lists every reason at once', () => {
    const c = makeSignedCase();
    delete c.review;
    delete c.source;
    c.order.indications = ['J84.1'];
    expect(thrown(() => buildChargeEvent(c, { mode: 'global', now })).reasons).toHaveLength(3);
  });

  it('does not mutate the case', () => {
    const c = makeSignedCase();
    const before = structuredClone(c);
    buildChargeEvent(c, { mode: 'split', now });
    expect(c).toEqual(before);
  });
});

describe('buildReversalEvent', () => {
  const charge = buildChargeEvent(makeSignedCase(), { mode: 'global', now });

  it('credits the charge with the same lines, as FT1-6 CD, with a deterministic rev- id', () => {
    const r = buildReversalEvent(charge, { now: new Date('2026-12-01T10:00:00Z'), reason: 'addendum: rejected, wrong series' });
    expect(ChargeEvent.parse(r)).toEqual(r);
    expect(r).toMatchObject({
      eventId: 'rev-c-7f3a9e2b-0877T',
      kind: 'reversal',
      transactionType: 'CD',
      reverses: 'chg-c-7f3a9e2b-0877T',
      reversalReason: 'addendum: rejected, wrong series',
      createdAt: '2026-12-01T10:00:00.000Z',
    });
    expect(r.lines).toEqual(charge.lines);
    expect(r.documentation.dates).toEqual(charge.documentation.dates);
  });

  it.each<[string, () => unknown, RegExp]>([
    ['a reversal', () => buildReversalEvent(buildReversalEvent(charge, { now, reason: 'r' }), { now, reason: 'again' }), /only a charge is reversed/],
    ['a blank reason', () => buildReversalEvent(charge, { now, reason: '  ' }), /needs a reason/],
  ])('refuses %s', (_name, run, message) => {
    expect(thrown(run).reasons.join('; ')).toMatch(message);
  });
});

describe('ChargeEvent schema', () => {
  const charge = buildChargeEvent(makeSignedCase(), { mode: 'global', now });
  it.each<[string, (e: ChargeEvent) => void]>([
    ['a charge sent as a credit', (e) => (e.transactionType = 'CD')],
    ['a charge with a rev- id', (e) => (e.eventId = 'rev-x')],
    ['GA and GZ on one line', (e) => (e.lines[0]!.modifiers = ['GA', 'GZ'])],
    ['2 units', (e) => (e.lines[0]!.units = 2)],
    ['payer and coverage payer that differ', (e) => (e.payer = 'uhc')],
    ['a reversal without the charge it credits', (e) => ((e.kind = 'reversal'), (e.transactionType = 'CD'), (e.eventId = 'rev-x'))],
  ])('refuses %s', (_name, mutate) => {
    const e = structuredClone(charge);
    mutate(e);
    expect(ChargeEvent.safeParse(e).success).toBe(false);
  });
});

describe('helpers', () => {
  it.each<[Parameters<typeof chargeEventId>, string]>([
    [['charge', 'c1', ['0877T']], 'chg-c1-0877T'],
    [['reversal', 'c1', ['0879T', '0880T']], 'rev-c1-0879T-0880T'],
  ])('chargeEventId%j → %s', (args, id) => expect(chargeEventId(...args)).toBe(id));

  it.each<[string, Parameters<typeof makeReview>[0], string]>([
    ['the signed decision without addenda', {}, 'accept'],
    ['the last addendum decision', { addenda: [{ at: 'a', by: { id: 'u', name: 'n', npi: 'x' }, text: 't', decision: 'reject' }, { at: 'b', by: { id: 'u', name: 'n', npi: 'x' }, text: 't' }] }, 'reject'],
  ])('effectiveDecision is %s', (_name, patch, decision) => expect(effectiveDecision(makeReview(patch))).toBe(decision));
});
