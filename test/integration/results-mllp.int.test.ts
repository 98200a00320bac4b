/**
 * Signed results to the EHR (issue 14, docs/ehr.md): the whole service runs (API and workers, real Redis,
 * a folder PACS) with ILDFLOW_RESULTS_MLLP pointing at a real MLLP peer (test/helpers/mllp-listener.ts).
 * A signed case sends one ORU^R01 with OBR-25 F and the PDF; a results system that answers AE, then AA,
 * gets it twice with the same control id; an addendum sends one with C, which an AR dead-letters and an
 * admin replays. The messages are judged by hl7-standard, an independent parser.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { parseIndependently } from '../helpers/hl7-standard.js';
import { startMllpListener, type MllpListener } from '../helpers/mllp-listener.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';

const PATIENT = { id: 'MRN-ORU-3141', name: 'HALVORSEN^SIGRID', birthDate: '1950-06-07', sex: 'F' as const };

describe('results to the EHR (ORU^R01 over MLLP)', () => {
  let h: Harness;
  let ehr: MllpListener;

  beforeAll(async () => {
    ehr = await startMllpListener(['AE'], 'AA');
    h = await startHarness({ ILDFLOW_RESULTS_MLLP: ehr.url, ILDFLOW_BILLING_RETRY_BASE_MS: '50', ILDFLOW_BILLING_MAX_ATTEMPTS: '5' });
    await generatePhantom({
      dir: join(h.pacsDir, 'oru'), pattern: 'uip', seed: 13, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5,
      patient: { id: PATIENT.id, name: PATIENT.name, birthDate: '19500607', sex: 'F' },
      study: { accessionNumber: 'ACC-ORU-1', studyDate: '20261020' },
    });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await ehr?.close();
  });

  it('sends the signed result once, F with the PDF; after AE then AA the EHR saw it twice under one control id; an addendum is C, dead-lettered on AR, replayed by an admin', async () => {
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, {
      order: { id: 'ORD-ORU-1', orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
      patient: PATIENT,
      coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
    });
    const id = created.body.id as string;
    await waitForStatus(h, id, ['awaiting_review'], 120_000);
    expect((await h.call('POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status).toBe(200);
    expect((await h.call('POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'accept', attestation: true })).status).toBe(200);
    await waitForStatus(h, id, ['billed'], 90_000);

    await ehr.waitForReceived(2, 20_000);
    const [first, second] = ehr.received;
    expect([first!.action, second!.action]).toEqual(['AE', 'AA']);
    expect(second!.controlId).toBe(first!.controlId);
    expect(second!.message).toBe(first!.message.replace(/^(MSH(?:\|[^|\r]*){5}\|)[^|]*/, (_m, head: string) => head + second!.message.split('|')[6]));
    const oru = parseIndependently(second!.message);
    expect(oru.get('MSH.9')).toMatchObject({ 'MSH.9.1': 'ORU', 'MSH.9.2': 'R01' });
    expect(oru.get('OBR.25')).toBe('F');
    expect(oru.get('PID.3')).toMatchObject({ 'PID.3.1': PATIENT.id, 'PID.3.5': 'MR' });
    expect(oru.get('ORC.2')).toBe('ORD-ORU-1');
    expect(JSON.stringify(oru.get('OBR.32'))).toContain('1234567893'); // the signer's NPI
    const ed = second!.message.split('\r').find((s) => s.split('|')[2] === 'ED')!.split('|')[5]!.split('^');
    expect(ed.slice(1, 4)).toEqual(['AP', 'PDF', 'Base64']);
    const pdf = await readFile(join(h.dataDir, 'cases', id, 'artifacts', 'report.pdf'));
    expect(Buffer.from(ed[4]!, 'base64').equals(pdf)).toBe(true);
    expect(second!.message.split('\r').filter((s) => s.split('|')[2] === 'NM').every((s) => /\^UCUM$/.test(s.split('|')[6]!))).toBe(true);
    // Exactly once: no further F however long the loop polls.
    await new Promise((r) => setTimeout(r, 1500));
    expect(ehr.accepted()).toHaveLength(1);

    // The addendum: C, refused (AR) → a dead letter, nothing retried; an admin replays it → accepted.
    ehr.script(['AR'], 'AA');
    expect((await h.call('POST', `/v1/cases/${id}/addendum`, TOKENS.radiologist, { text: 'Compared with the 2024 CT: stable.' })).status).toBe(200);
    await ehr.waitForReceived(3, 20_000);
    const corrected = ehr.received[2]!;
    expect(corrected.action).toBe('AR');
    expect(parseIndependently(corrected.message).get('OBR.25')).toBe('C');
    expect(corrected.controlId).not.toBe(first!.controlId);
    expect(corrected.message).toContain('Compared with the 2024 CT: stable.');
    let dead: { id: string; output: string; caseId: string; reason: string } | undefined;
    for (let i = 0; i < 50 && !dead; i++) {
      const list = await h.call('GET', '/v1/admin/dead-letters?limit=50', TOKENS.admin);
      dead = list.body.items.find((d: { output: string; caseId: string }) => d.output === 'results-mllp' && d.caseId === id);
      if (!dead) await new Promise((r) => setTimeout(r, 100));
    }
    expect(dead?.reason).toMatch(/rejected: AR/);
    await new Promise((r) => setTimeout(r, 500));
    expect(ehr.received).toHaveLength(3); // AR is final: no retry
    expect((await h.call('POST', `/v1/admin/dead-letters/${dead!.id}/replay`, TOKENS.admin)).status).toBe(202);
    await ehr.waitForReceived(4, 20_000);
    expect(ehr.received[3]!.controlId).toBe(corrected.controlId);
    expect(ehr.accepted().map((m) => parseIndependently(m).get('OBR.25'))).toEqual(['F', 'C']);
  }, 240_000);
});
