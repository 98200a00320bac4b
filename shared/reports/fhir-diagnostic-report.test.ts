import { describe, expect, it } from 'vitest';
import { buildDiagnosticReport, ReportNotBuildable, type Observation } from './fhir-diagnostic-report.js';
import { makeReview, makeSignedCase, makeSource, FIXTURE_NPI, FIXTURE_UIDS } from '../billing/test-fixtures.js';
import type { Case } from '../domain/case.js';

const now = new Date('2026-11-27T16:31:00.000Z');
const observations = (r: ReturnType<typeof buildDiagnosticReport>) =>
  r.contained.filter((x): x is Observation => x.resourceType === 'Observation');
const byId = (r: ReturnType<typeof buildDiagnosticReport>, id: string) => observations(r).find((o) => o.id === id);

describe('buildDiagnosticReport', () => {
  const final = buildDiagnosticReport(makeSignedCase(), { status: 'final', now });

  it('is a final DiagnosticReport for CT Chest (LOINC 24627-2) in the radiology category', () => {
    expect(final).toMatchObject({
      resourceType: 'DiagnosticReport',
      id: 'ildflow-c-7f3a9e2b',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '24627-2', display: 'CT Chest' }] },
      category: [{ coding: expect.arrayContaining([{ system: 'http://loinc.org', code: 'LP29684-5', display: 'Radiology' }]) }],
      identifier: [{ system: 'https://ildflow.dev/fhir/sid/case-id', value: 'c-7f3a9e2b' }],
      basedOn: [{ type: 'ServiceRequest', identifier: { value: 'ORD-1001' } }],
      effectiveDateTime: '2026-10-02',
      issued: '2026-11-27T16:31:00.000Z',
    });
  });

  it('names the patient by identifier, the study by its DICOM UID, and the signer by NPI', () => {
    expect(final.subject).toEqual({
      type: 'Patient',
      identifier: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: 'MRN-001' },
    });
    expect(final.imagingStudy).toEqual([{ type: 'ImagingStudy', identifier: { system: 'urn:dicom:uid', value: `urn:oid:${FIXTURE_UIDS.study}` } }]);
    const signer = { type: 'Practitioner', identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: FIXTURE_NPI.signer }, display: 'Ada Reyes, MD' };
    expect(final.performer).toEqual([signer]);
    expect(final.resultsInterpreter).toEqual([signer]);
  });

  it('adds the MRN system when the hospital gives one', () => {
    const r = buildDiagnosticReport(makeSignedCase(), { status: 'final', now, patientIdentifierSystem: 'urn:oid:2.16.840.1.113883.3.1' });
    expect(r.subject.identifier?.system).toBe('urn:oid:2.16.840.1.113883.3.1');
  });

  it.each<[string, number, string, string]>([
    ['obs-lung-volume', 3820, 'mL', 'mL'],
    ['obs-mean-lung-density', -742, 'HU', "[hnsf'U]"],
    ['obs-haa', 17.4, '%', '%'],
    ['obs-laa-950', 2.1, '%', '%'],
    ['obs-fibrosis-extent', 19.5, '%', '%'],
    ['obs-honeycombing-extent', 5.3, '%', '%'],
    ['obs-reticulation-extent', 14.2, '%', '%'],
    ['obs-ground-glass-extent', 6.1, '%', '%'],
    ['obs-emphysema-extent', 1.8, '%', '%'],
    ['obs-consolidation-extent', 0.4, '%', '%'],
  ])('contains %s = %d %s with UCUM code %s', (id, value, unit, code) => {
    expect(byId(final, id)).toMatchObject({
      status: 'final',
      subject: final.subject,
      device: { reference: '#engine' },
      valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code },
    });
  });

  it('codes the category as an Observation with text, and repeats it as the conclusion code', () => {
    const obs = byId(final, 'obs-ct-pattern');
    expect(obs?.valueCodeableConcept).toEqual({
      coding: [{ system: 'https://ildflow.dev/fhir/CodeSystem/ild-qct', code: 'ct-pattern-uip', display: 'UIP pattern' }],
      text: 'UIP pattern',
    });
    expect(final.conclusionCode).toEqual([obs?.valueCodeableConcept]);
    expect(final.conclusion).toMatch(/^UIP pattern\. Fibrosis extent 19\.5% .* accepted by Ada Reyes, MD/);
  });

  it('references every contained Observation from result, and the engine as a contained Device', () => {
    expect(final.result.map((r) => r.reference)).toEqual(observations(final).map((o) => `#${o.id}`));
    expect(final.contained[0]).toMatchObject({ resourceType: 'Device', id: 'engine', version: [{ value: '1.0.0' }], note: [{ text: expect.stringMatching(/Research use only/) }] });
    expect(new Set(final.contained.map((x) => x.id)).size).toBe(final.contained.length);
  });

  it('is preliminary before review: engine category, no performer, no interpreter', () => {
    const c = makeSignedCase({ status: 'awaiting_review' });
    delete c.review;
    const r = buildDiagnosticReport(c, { status: 'preliminary', now });
    expect(r.status).toBe('preliminary');
    expect(r.performer).toBeUndefined();
    expect(r.resultsInterpreter).toBeUndefined();
    expect(observations(r).every((o) => o.status === 'preliminary')).toBe(true);
    expect(r.conclusion).toMatch(/not yet reviewed/);
  });

  it.each<[string, Partial<Case>, string, string]>([
    ['the physician category after an amend', { review: makeReview({ decision: 'amend', classification: { category: 'probable_uip', rationale: ['no honeycombing'] } }) }, 'final', 'ct-pattern-probable_uip'],
    ['appended after a text-only addendum', { review: makeReview({ addenda: [{ at: '2026-11-28T09:00:00Z', by: makeReview().signer, text: 'Compare with 2025 CT.' }] }) }, 'appended', 'ct-pattern-uip'],
    ['amended after an addendum that changed the decision', { review: makeReview({ addenda: [{ at: '2026-11-28T09:00:00Z', by: makeReview().signer, text: 'Amended.', decision: 'amend' }] }) }, 'amended', 'ct-pattern-uip'],
  ])('reports %s', (_name, patch, status, code) => {
    const r = buildDiagnosticReport(makeSignedCase(patch), { status: 'final', now });
    expect(r.status).toBe(status);
    expect(r.conclusionCode[0]?.coding?.[0]?.code).toBe(code);
  });

  it('names an amending addendum by its own signer (NPI, time, attestation) and makes that signer an interpreter too', () => {
    const bo = { id: 'u-rad-2', name: 'Bo Chen, MD', npi: '1245319599' };
    const addendum = { at: '2026-11-28T09:00:00Z', by: bo, text: 'Honeycombing on re-read.', decision: 'amend' as const, classification: { category: 'uip' as const, rationale: [] }, attestation: true as const, attestationText: 'I have personally reviewed … as recorded in this addendum.' };
    const r = buildDiagnosticReport(makeSignedCase({ review: makeReview({ addenda: [addendum] }) }), { status: 'final', now });
    expect(r.resultsInterpreter?.map((p) => p.identifier?.value)).toEqual([FIXTURE_NPI.signer, bo.npi]);
    expect(r.performer?.map((p) => p.identifier?.value)).toEqual([FIXTURE_NPI.signer]);
    expect(r.conclusion).toContain('amended by addendum by Bo Chen, MD at 2026-11-28T09:00:00Z');
    expect(r.conclusion).toContain('Addendum 2026-11-28T09:00:00Z by Bo Chen, MD, NPI 1245319599 (amend to UIP pattern, signed): Honeycombing on re-read.');
    expect(r.conclusion).toContain('Attestation: I have personally reviewed … as recorded in this addendum.');
  });

  it('uses the study date when the series has no acquisition date', () => {
    const r = buildDiagnosticReport(makeSignedCase({ source: makeSource({ acquisitionDate: undefined, studyDate: '20260915' }) }), { status: 'final', now });
    expect(r.effectiveDateTime).toBe('2026-09-15');
  });

  it.each<[string, (c: Case) => void, 'final' | 'preliminary', RegExp]>([
    ['a final report without a review', (c) => delete c.review, 'final', /signed review/],
    ['a final report for a rejected result', (c) => (c.review = makeReview({ decision: 'reject', comment: 'artefact' })), 'final', /rejected/],
    ['any report without a result', (c) => delete c.result, 'preliminary', /no engine result/],
    ['any report without a source', (c) => delete c.source, 'preliminary', /no source series/],
  ])('refuses %s', (_name, mutate, status, message) => {
    const c = makeSignedCase();
    mutate(c);
    expect(() => buildDiagnosticReport(c, { status, now })).toThrow(ReportNotBuildable);
    expect(() => buildDiagnosticReport(c, { status, now })).toThrow(message);
  });
});
