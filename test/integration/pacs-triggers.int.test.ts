/**
 * PACS-triggered jobs against a real Orthanc: a case awaiting its study is resumed exactly once by the
 * OnStableStudy Lua webhook, and — in another deployment (own Redis prefix) on the same Orthanc — by the
 * /changes poller, which persists its sequence number. Sending the study again (it turns stable again)
 * resumes nothing twice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { seqKey } from '../../services/api/triggers/orthanc-poller.js';
import { freePort, isOrthancInstalled, startOrthanc, webhookLua, type Orthanc } from '../helpers/orthanc.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';

const order = (id: string, patientId: string) => ({
  order: { id, orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
  patient: { id: patientId, name: 'TEST^TRIGGER', birthDate: '1950-01-01', sex: 'F' },
  coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: '2026-11-27' } },
});

describe.skipIf(!isOrthancInstalled())('PACS-triggered resumption (real Orthanc)', () => {
  let orthanc: Orthanc;
  let webhook: Harness;
  let poller: Harness;
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-pacs-trig-'));
    const apiPort = await freePort();
    orthanc = await startOrthanc({ lua: webhookLua(`http://127.0.0.1:${apiPort}`, TOKENS.pacs), stableAgeSeconds: 1 });
    webhook = await startHarness({ ILDFLOW_PACS: orthanc.dicomWebUrl, ILDFLOW_PACS_AUTH: orthanc.auth, ILDFLOW_PORT: String(apiPort) });
    poller = await startHarness({ ILDFLOW_PACS: orthanc.dicomWebUrl, ILDFLOW_PACS_AUTH: orthanc.auth, ILDFLOW_ORTHANC_URL: orthanc.base, ILDFLOW_ORTHANC_POLL_SECONDS: '0.5' });
  });

  afterAll(async () => {
    await webhook?.close();
    await poller?.close();
    await orthanc?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function study(patientId: string): Promise<string[]> {
    const r = await generatePhantom({
      dir: join(work, patientId),
      rows: 128,
      columns: 128,
      slices: 64,
      sliceThicknessMm: 2.5,
      patient: { id: patientId, name: 'TEST^TRIGGER', birthDate: '19500101', sex: 'F' },
      // Own UIDs per patient: the phantom derives them from the seed, and Orthanc keys studies by UID.
      study: { studyInstanceUid: `2.25.${Date.now()}${process.pid}`, accessionNumber: 'ACC-TRIG', studyDate: '20261020' },
    });
    return r.files;
  }

  const resumes = (c: { timeline: { from?: string; to: string }[] }) => c.timeline.filter((t) => t.from === 'awaiting_study' && t.to === 'retrieving').length;

  /** Orders a case for a patient not in the PACS yet; it waits. Then the study arrives, twice. */
  async function waitThenArrive(h: Harness, patientId: string) {
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-${patientId}`, patientId));
    const id = created.body.id as string;
    await waitForStatus(h, id, ['awaiting_study']);
    const files = await study(patientId);
    orthanc.storescu(files);
    const done = await waitForStatus(h, id, ['awaiting_review', 'failed', 'ineligible'], 60_000);
    expect((done.case ?? done).status, JSON.stringify((done.case ?? done).failure)).toBe('awaiting_review');
    // The same study again: Orthanc reports it stable a second time.
    orthanc.storescu(files);
    await new Promise((r) => setTimeout(r, 4000));
    const after = (await h.call('GET', `/v1/cases/${id}`, TOKENS.admin)).body;
    return { id, after };
  }

  it('resumes an awaiting_study case exactly once from the OnStableStudy webhook', async () => {
    const { after } = await waitThenArrive(webhook, `MRN-WH-${process.pid}`);
    expect(resumes(after)).toBe(1);
    expect(after.timeline.at(-1).to).toBe('awaiting_review');
    expect(after.timeline.some((t: { reason?: string }) => /orthanc [0-9a-f-]+/.test(t.reason ?? ''))).toBe(true);
  });

  it('resumes an awaiting_study case exactly once from the /changes poller, and keeps its place', async () => {
    const { after } = await waitThenArrive(poller, `MRN-POLL-${process.pid}`);
    expect(resumes(after)).toBe(1);
    expect(after.timeline.some((t: { reason?: string }) => /orthanc \/changes \d+/.test(t.reason ?? ''))).toBe(true);
    const seq = Number(await poller.redis.get(seqKey(poller.prefix)));
    const last = ((await (await orthanc.rest('/changes?last')).json()) as { Last: number }).Last;
    expect(seq).toBeGreaterThan(0);
    expect(seq).toBeLessThanOrEqual(last);
  });
});
