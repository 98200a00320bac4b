/**
 * Minimum necessary (docs/design.md §6, issue 11 F1), through the real API on the real Redis: an orderer reads,
 * lists and cancels only the orders it placed; the PACS role sees a case's study identifiers and status,
 * no patient; the billing role sees what a claim needs, no timeline, failure, claim or clinical text.
 * Radiologists and admins see whole cases. Every read is still audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../shared/domain/case.js';
import { startApi, type Harness } from '../helpers/api-harness.js';

const PATIENT = { name: 'QUENNELL^MARISOL', birthDate: '1952-03-14', sex: 'F' as const };
const PHI = ['QUENNELL', 'MARISOL', '1952-03-14'];

describe('case access by role', () => {
  let h: Harness;
  beforeAll(async () => void (h = await startApi()));
  afterAll(async () => h?.close());

  /** A case ordered through the API by `as`, for a patient of its own, then walked to `status`. */
  async function orderedBy(as: 'orderer' | 'orderer2'): Promise<Case> {
    const body = h.orderBody();
    body.patient = { ...body.patient, ...PATIENT };
    const res = await h.call('POST', '/v1/cases', { as, body });
    expect(res.status).toBe(202);
    return h.store.get(res.json.id);
  }

  it("answers another orderer's case 404, with nothing of it, and the orderer's own case in full", async () => {
    const mine = await orderedBy('orderer');
    const other = await h.call('GET', `/v1/cases/${mine.id}`, { as: 'orderer2' });
    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    for (const s of [...PHI, mine.patient.id]) expect(other.text).not.toContain(s);
    const own = await h.call('GET', `/v1/cases/${mine.id}`, { as: 'orderer' });
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ id: mine.id, patient: { id: mine.patient.id, name: PATIENT.name }, timeline: [expect.objectContaining({ to: 'queued' })] });
  });

  it('lists to an orderer only the orders it placed, whatever the patient filter', async () => {
    const mine = await orderedBy('orderer');
    const theirs = await orderedBy('orderer2');
    const ids = async (as: 'orderer' | 'orderer2' | 'radiologist' | 'admin', q = 'limit=200') =>
      ((await h.call('GET', `/v1/cases?${q}`, { as })).json.items as Case[]).map((c) => c.id);
    expect(await ids('orderer')).toContain(mine.id);
    expect(await ids('orderer')).not.toContain(theirs.id);
    expect(await ids('orderer2')).toEqual([theirs.id]);
    expect(await ids('orderer2', `patientId=${mine.patient.id}`)).toEqual([]);
    expect(await ids('orderer', `patientId=${mine.patient.id}`)).toEqual([mine.id]);
    for (const as of ['radiologist', 'admin'] as const) expect(await ids(as)).toEqual(expect.arrayContaining([mine.id, theirs.id]));
  });

  it("refuses to cancel another orderer's case (404, the case goes on) and cancels the orderer's own", async () => {
    const mine = await orderedBy('orderer');
    const res = await h.call('POST', `/v1/cases/${mine.id}/cancel`, { as: 'orderer2', body: { reason: 'not mine' } });
    expect(res.status).toBe(404);
    expect((await h.store.get(mine.id)).status).toBe('queued');
    expect((await h.call('POST', `/v1/cases/${mine.id}/cancel`, { as: 'orderer', body: {} })).json).toEqual({ id: mine.id, status: 'cancelled' });
  });

  it('shows the PACS role the study identifiers and status of a case, and nothing of the patient', async () => {
    const c = await h.seedCase('awaiting_review');
    const res = await h.call('GET', `/v1/cases/${c.id}`, { as: 'pacs' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: c.id, status: 'awaiting_review', order: { id: c.order.id }, source: { studyInstanceUid: c.source!.studyInstanceUid } });
    for (const s of ['DOE^JANE', c.patient.id, c.patient.birthDate, c.coverage.memberId!, 'timeline', 'quantities', 'orderingProvider'])
      expect(res.text, `the PACS role sees ${s}`).not.toContain(s);
  });

  it('shows the billing role what a claim needs, without the timeline, clinical text or engine internals', async () => {
    const c = await h.seedCase('billed');
    const res = await h.call('GET', `/v1/cases/${c.id}`, { as: 'billing' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: c.id,
      status: 'billed',
      order: c.order,
      patient: c.patient,
      coverage: c.coverage,
      billing: c.billing,
      source: { accessionNumber: c.source!.accessionNumber, sliceCount: c.source!.sliceCount },
      review: { decision: 'accept', signer: c.review!.signer, signedAt: c.review!.signedAt },
      result: { engine: { name: c.result!.engine.name, version: c.result!.engine.version } },
    });
    for (const hidden of ['timeline', 'failure', 'claim', 'attestationText']) expect(res.json, hidden).not.toHaveProperty(hidden);
    expect(res.json.result).not.toHaveProperty('quantities');
    expect(res.json.result).not.toHaveProperty('keyImages');
    expect(res.json.source).not.toHaveProperty('selection');
    expect(res.json.review).not.toHaveProperty('comment');
    expect(res.json.review).not.toHaveProperty('shown');
  });

  it('still audits every read, restricted or not', async () => {
    const c = await h.seedCase('billed');
    for (const as of ['pacs', 'billing', 'orderer'] as const) {
      expect((await h.call('GET', `/v1/cases/${c.id}`, { as })).status).toBe(200);
      expect((await h.store.auditTrail(100_000)).at(-1)).toMatchObject({ userId: h.users[as].id, action: 'case.read', caseId: c.id });
    }
  });
});
