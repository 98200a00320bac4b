import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseIndependently } from '../../test/helpers/hl7-standard.js';
import { makeSignedCase } from '../billing/test-fixtures.js';
import type { Case } from '../domain/case.js';
import { REPORT_ARTIFACTS } from '../reports/report-refs.js';
import { buildOruR01, oruControlId } from './oru-r01.js';
import { ResultEvent, resultEventOf, withResultEvent } from './result-event.js';

const PDF = Buffer.from('%PDF-1.7\n% ildflow test report\n%%EOF\n');
const signed = (): Case => {
  const c = makeSignedCase();
  const pdf = { name: REPORT_ARTIFACTS.pdf, mediaType: 'application/pdf', sha256: createHash('sha256').update(PDF).digest('hex'), bytes: PDF.length, createdAt: '2026-11-27T16:00:00.000Z' };
  return { ...c, artifacts: [...c.artifacts.filter((a) => a.name !== pdf.name), pdf] };
};
const opts = { now: new Date('2026-11-27T17:00:00.000Z'), sendingFacility: 'RADIOLOGY', receivingApplication: 'EPIC', receivingFacility: 'HOSP' } as const;
const eventOf = (c: Case) => ResultEvent.parse(resultEventOf(c)!.event);

describe('buildOruR01', () => {
  const e = eventOf(signed());
  const text = buildOruR01(e, PDF, opts);
  const h = parseIndependently(text);

  it('is an ORU^R01 v2.5.1 that hl7-standard reads: MSH, PID, PV1, ORC RE, OBR with F and the signer, then the OBX', () => {
    expect(h.getSegments().map((s) => s.type)).toEqual(['MSH', 'PID', 'PV1', 'ORC', 'OBR', ...Array<string>(e.quantities.length + 3).fill('OBX')]);
    expect(h.get('MSH.9')).toEqual({ 'MSH.9.1': 'ORU', 'MSH.9.2': 'R01', 'MSH.9.3': 'ORU_R01' });
    expect(h.get('MSH.10')).toBe(oruControlId(e));
    expect(h.get('MSH.12')).toBe('2.5.1');
    expect(h.get('ORC.1')).toBe('RE');
    expect(h.get('OBR.4')).toMatchObject({ 'OBR.4.1': '0877T', 'OBR.4.3': 'C4' });
    expect(h.get('OBR.25')).toBe('F');
    expect(JSON.stringify(h.get('OBR.32'))).toContain('1234567893');
    expect(h.get('PID.3')).toMatchObject({ 'PID.3.1': 'MRN-001', 'PID.3.5': 'MR' });
  });

  it('carries the category as CWE, each quantity as NM with a UCUM unit, the text as TX and the PDF as ED Base64', () => {
    const obx = text.split('\r').filter((s) => s.startsWith('OBX|')).map((s) => s.split('|'));
    expect(obx[0]![2]).toBe('CWE');
    expect(obx[0]![5]).toMatch(/^ct-pattern-\w+\^.+\^L$/);
    const nm = obx.filter((f) => f[2] === 'NM');
    expect(nm).toHaveLength(e.quantities.length);
    for (const f of nm) {
      expect(Number.isFinite(Number(f[5]))).toBe(true);
      expect(f[6]).toMatch(/\^UCUM$/);
    }
    expect(nm.find((f) => f[3]!.startsWith('mean-lung-density'))![6]).toBe("[hnsf'U]^[hnsf'U]^UCUM");
    expect(obx.find((f) => f[2] === 'TX')![5]).toMatch(/ILD CT pattern/);
    const ed = obx.find((f) => f[2] === 'ED')![5]!.split('^');
    expect(ed.slice(1, 4)).toEqual(['AP', 'PDF', 'Base64']);
    expect(Buffer.from(ed[4]!, 'base64').equals(PDF)).toBe(true);
    for (const f of obx) expect(f[11]).toBe('F');
  });

  it('gives the same control id on every delivery of one version, another to a correction', () => {
    expect(buildOruR01(e, PDF, { ...opts, now: new Date() }).split('\r')[0]!.split('|')[9]).toBe(oruControlId(e));
    const c = signed();
    const corrected = { ...c, resultEvents: [e.eventId], review: { ...c.review!, addenda: [{ at: '2026-11-28T10:00:00.000Z', by: c.review!.signer, text: 'Compared with the 2024 CT: stable.' }] } };
    const ce = eventOf(corrected);
    expect(ce.resultStatus).toBe('C');
    expect(oruControlId(ce)).not.toBe(oruControlId(e));
    expect(parseIndependently(buildOruR01(ce, PDF, opts)).get('OBR.25')).toBe('C');
  });
});

describe('withResultEvent', () => {
  it('adds each version once: the signed report, then an addendum only when the EHR already has a version', () => {
    const c = signed();
    const first = withResultEvent({ next: c, reason: 'x' }, 'signed');
    expect(first.events?.map((ev) => ev.outbox)).toEqual(['results']);
    expect(withResultEvent({ next: first.next, reason: 'again' }, 'signed').events).toBeUndefined();
    const addendum = { ...first.next, review: { ...first.next.review!, addenda: [{ at: '2026-11-28T10:00:00.000Z', by: c.review!.signer, text: 'stable' }] } };
    expect(withResultEvent({ next: addendum, reason: 'a' }, 'addendum').events).toHaveLength(1);
    const neverSent = { ...c, review: addendum.review };
    expect(withResultEvent({ next: neverSent, reason: 'a' }, 'addendum').events).toBeUndefined();
    // Written only after that addendum, the report the EHR first gets is still final.
    expect((withResultEvent({ next: neverSent, reason: 'written' }, 'signed').events?.[0]?.event as { resultStatus: string }).resultStatus).toBe('F');
  });
});
