/**
 * Two patient identifiers before analysis (issue 14, docs/pacs.md), against a real Orthanc over DICOMweb: an
 * order whose MRN matches the study's but whose birth date and family name do not is held `on_hold` — not
 * retrieved, not analysed, not billed — until an admin reconciles it (confirm → analysed; cancel →
 * cancelled, audited); the matching order goes straight through, its name compared without case, accents or
 * punctuation. No identifier value reaches the logs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { isOrthancInstalled, startOrthanc, type Orthanc } from '../helpers/orthanc.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';

const uid = (n: number) => `2.25.${Date.now()}${process.pid}${n}`;
const RUN = process.pid;
/** The study's patient as the PACS has it; the MRN is reused by another patient's order below. */
const STUDY_PATIENT = { id: `MRN-ID-${RUN}`, name: 'OBRIEN-NUNEZ^ANA', birthDate: '19610402', sex: 'F' as const };
const SAME_PATIENT = { id: STUDY_PATIENT.id, name: "O'Brien Núñez^Ana", birthDate: '1961-04-02', sex: 'F' as const };
const OTHER_PATIENT = { id: STUDY_PATIENT.id, name: 'ZWICKY^OTTOLINE', birthDate: '1933-03-03', sex: 'F' as const };

const order = (id: string, patient: typeof SAME_PATIENT, studyInstanceUid: string) => ({
  order: { id, orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
  patient,
  study: { studyInstanceUid },
  coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
});

describe.skipIf(!isOrthancInstalled())('two patient identifiers (real Orthanc)', () => {
  let orthanc: Orthanc;
  let h: Harness;
  let work: string;
  const study = uid(1);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-identity-'));
    orthanc = await startOrthanc();
    const p = await generatePhantom({
      dir: join(work, 'ct'), pattern: 'uip', seed: 11, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5,
      patient: STUDY_PATIENT,
      study: { studyInstanceUid: study, accessionNumber: `ACC-ID-${RUN}`.slice(0, 16), studyDate: '20261012' },
    });
    orthanc.storescu(p.files);
    h = await startHarness({ ILDFLOW_PACS: orthanc.dicomWebUrl, ILDFLOW_PACS_AUTH: orthanc.auth });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await orthanc?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('sends the matching order straight to analysis (name compared without case, accents or punctuation)', async () => {
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-ID-OK-${RUN}`, SAME_PATIENT, study));
    expect(created.status).toBe(202);
    const done = await waitForStatus(h, created.body.id, ['awaiting_review', 'on_hold', 'failed', 'ineligible'], 90_000);
    expect(done.status).toBe('awaiting_review');
    expect(done.timeline.map((t: { to: string }) => t.to)).not.toContain('on_hold');
  }, 120_000);

  it('holds an order whose MRN matches but whose birth date and name do not: not analysed, not billed; confirm moves it on', async () => {
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-ID-HOLD-${RUN}`, OTHER_PATIENT, study));
    const id = created.body.id as string;
    const held = await waitForStatus(h, id, ['on_hold', 'awaiting_review', 'failed', 'ineligible'], 60_000);
    expect(held.status).toBe('on_hold');
    expect(held.hold.differs).toEqual(['birthDate', 'familyName']);
    // The admin sees what the PACS says, to decide; the reason names the identifiers only.
    expect(held.hold.study).toMatchObject({ studyInstanceUid: study, patientId: STUDY_PATIENT.id, patientName: STUDY_PATIENT.name, birthDate: STUDY_PATIENT.birthDate });
    const reason = held.timeline.at(-1).reason as string;
    expect(reason).toMatch(/birth date and family name differ/);
    expect(reason).not.toMatch(/ZWICKY|OBRIEN|19330303|19610402|1933-03-03/);
    expect(held.source).toBeUndefined();
    expect(held.result).toBeUndefined();
    expect(await h.runtime.store.timeline(id)).toHaveLength(3); // queued, retrieving, on_hold: nothing more
    // It stays held: no job moves it (wait through a reconciler pass and a sweep).
    await new Promise((r) => setTimeout(r, 1500));
    expect((await h.runtime.store.get(id)).status).toBe('on_hold');
    const events = await h.call('GET', '/v1/billing/events?limit=100', TOKENS.billing);
    expect(events.status).toBe(200);
    expect(events.body.events.some((e: { event: { caseId: string } }) => e.event.caseId === id)).toBe(false);

    // Only an admin reconciles, with a reason; a case that is not held is refused.
    expect((await h.call('POST', `/v1/cases/${id}/reconcile`, TOKENS.orderer, { decision: 'confirm', reason: 'x' })).status).toBe(403);
    expect((await h.call('POST', `/v1/cases/${id}/reconcile`, TOKENS.admin, { decision: 'confirm' })).status).toBe(400);
    const confirmed = await h.call('POST', `/v1/cases/${id}/reconcile`, TOKENS.admin, { decision: 'confirm', reason: 'registration: MRN merge, same patient' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('retrieving');
    const done = await waitForStatus(h, id, ['awaiting_review', 'on_hold', 'failed', 'ineligible'], 90_000);
    expect(done.status).toBe('awaiting_review');
    expect(done.source.studyInstanceUid).toBe(study);
    expect(done.identityConfirmed).toMatchObject({ studyInstanceUid: study, by: 'u-admin' });
    expect((await h.call('POST', `/v1/cases/${id}/reconcile`, TOKENS.admin, { decision: 'confirm', reason: 'again' })).status).toBe(409);
    const audit = await h.runtime.store.auditTrail();
    expect(audit.some((a) => a.action === 'case.reconcile.confirm' && a.caseId === id && a.userId === 'u-admin')).toBe(true);
  }, 180_000);

  it('cancels a held order when the admin says it is another patient, audited', async () => {
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-ID-CANCEL-${RUN}`, OTHER_PATIENT, study));
    const id = created.body.id as string;
    expect((await waitForStatus(h, id, ['on_hold', 'awaiting_review', 'failed'], 60_000)).status).toBe('on_hold');
    const r = await h.call('POST', `/v1/cases/${id}/reconcile`, TOKENS.admin, { decision: 'cancel', reason: 'another patient under a reused MRN' });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('cancelled');
    const c = await h.runtime.store.get(id);
    expect(c.result).toBeUndefined();
    expect((await h.runtime.store.timeline(id)).at(-1)?.reason).toMatch(/identifiers not confirmed; cancelled by u-admin/);
    expect((await h.runtime.store.auditTrail()).some((a) => a.action === 'case.reconcile.cancel' && a.caseId === id)).toBe(true);
  }, 90_000);

  it('writes no identifier value to the logs', () => {
    const logs = h.logs();
    expect(logs).toMatch(/case held/);
    for (const v of [STUDY_PATIENT.id, 'OBRIEN', 'Núñez', 'ZWICKY', '19610402', '1961-04-02', '19330303', '1933-03-03']) expect(logs, v).not.toContain(v);
  });
});
