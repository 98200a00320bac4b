/**
 * Retrieval over DICOMweb against a real Orthanc (issue 3 "Done means"): series selection from a study with
 * a localizer, a 5 mm soft-tissue and a 1.25 mm lung series; a patient with no eligible CT; wrong
 * credentials; a PACS that is down, then back; STOW-RS found again by QIDO-RS.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { createDicomWebSource } from '../../shared/pacs/dicomweb-source.js';
import { isOrthancInstalled, retag, startOrthanc, type Orthanc } from '../helpers/orthanc.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';

const ORDERED_AT = '2026-11-27T09:00:00Z';

const order = (id: string, patientId: string, extra: Record<string, unknown> = {}) => ({
  order: { id, orderedAt: ORDERED_AT, priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
  patient: { id: patientId, name: 'TEST^PACS', birthDate: '1950-01-01', sex: 'F' },
  coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: '2026-11-27' } },
  ...extra,
});

type Series = { files: string[]; seriesInstanceUid: string; studyInstanceUid: string };

/** One series of a study, written by the phantom generator and retagged to look like another reconstruction. */
async function series(dir: string, o: { patientId: string; study: string; series: string; slices: number; thickness: number; tags?: Record<string, string>; rows?: number }): Promise<Series> {
  const r = await generatePhantom({
    dir,
    pattern: 'uip',
    seed: 7,
    rows: o.rows ?? 128,
    columns: o.rows ?? 128,
    slices: o.slices,
    sliceThicknessMm: o.thickness,
    patient: { id: o.patientId, name: 'TEST^PACS', birthDate: '19500101', sex: 'F' },
    study: { studyInstanceUid: o.study, accessionNumber: `ACC-${o.patientId}`.slice(0, 16), studyDate: '20261020' },
    seriesInstanceUid: o.series,
  });
  if (o.tags) retag(r.files, o.tags);
  return { files: r.files, seriesInstanceUid: r.seriesInstanceUid, studyInstanceUid: r.studyInstanceUid };
}

const uid = (n: number) => `2.25.${Date.now()}${process.pid}${n}`;

describe.skipIf(!isOrthancInstalled())('PACS over DICOMweb (real Orthanc)', () => {
  let orthanc: Orthanc;
  let h: Harness;
  let work: string;
  const mixed = { patient: `MRN-DW-MIX-${process.pid}`, study: uid(1), localizer: uid(2), soft: uid(3), lung: uid(4) };
  const thick = { patient: `MRN-DW-THK-${process.pid}`, study: uid(5), soft: uid(6) };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-pacs-dw-'));
    orthanc = await startOrthanc();
    const files = [
      ...(await series(join(work, 'loc'), { patientId: mixed.patient, study: mixed.study, series: mixed.localizer, slices: 3, thickness: 2, tags: { '(0008,0008)': 'ORIGINAL\\PRIMARY\\LOCALIZER', '(0008,103E)': 'Topogram', '(0020,0011)': '1' } })).files,
      ...(await series(join(work, 'soft'), { patientId: mixed.patient, study: mixed.study, series: mixed.soft, slices: 32, thickness: 5, tags: { '(0018,1210)': 'STANDARD', '(0008,103E)': 'Chest 5mm soft tissue', '(0020,0011)': '3' } })).files,
      ...(await series(join(work, 'lung'), { patientId: mixed.patient, study: mixed.study, series: mixed.lung, slices: 128, thickness: 1.25, tags: { '(0008,103E)': 'Chest 1.25mm lung' } })).files,
      ...(await series(join(work, 'thick'), { patientId: thick.patient, study: thick.study, series: thick.soft, slices: 40, thickness: 5, tags: { '(0018,1210)': 'STANDARD', '(0008,103E)': 'Chest 5mm' } })).files,
    ];
    orthanc.storescu(files);
    h = await startHarness({ ILDFLOW_PACS: orthanc.dicomWebUrl, ILDFLOW_PACS_AUTH: orthanc.auth });
  });

  afterAll(async () => {
    await h?.close();
    await orthanc?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('picks the 1.25 mm lung series over a localizer and a 5 mm soft-tissue series, and says why', async () => {
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-DW-MIX-${process.pid}`, mixed.patient));
    expect(created.status).toBe(202);
    const done = await waitForStatus(h, created.body.id, ['awaiting_review', 'failed', 'ineligible']);
    const c = done.case ?? done;
    expect(c.status).toBe('awaiting_review');
    expect(c.source.seriesInstanceUid).toBe(mixed.lung);
    expect(c.source.sliceCount).toBe(128);
    const rejected = Object.fromEntries(c.source.selection.rejected.map((r: { seriesInstanceUid: string; reasons: string[] }) => [r.seriesInstanceUid, r.reasons.join('; ')]));
    expect(rejected[mixed.localizer]).toMatch(/localizer/);
    expect(rejected[mixed.soft]).toMatch(/slice thickness 5 mm/);
    // The spool path never leaves the API (issue 11, F10): the store has it.
    expect(await readdir((await h.runtime.store.get(c.id)).source!.seriesDir)).toHaveLength(128);
  });

  it('makes a patient with no eligible CT ineligible, with the reasons', async () => {
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-DW-THK-${process.pid}`, thick.patient));
    const done = await waitForStatus(h, created.body.id, ['ineligible', 'failed', 'awaiting_review']);
    const c = done.case ?? done;
    expect(c.status).toBe('ineligible');
    expect(c.ineligibleReasons.join(' ')).toMatch(/slice thickness 5 mm > 3 mm/);
    expect(c.ineligibleReasons.join(' ')).toMatch(/40 images < 50 required/);
  });

  it('fails clearly, without BullMQ retries, when the PACS refuses the credentials', async () => {
    const bad = await startHarness({ ILDFLOW_PACS: orthanc.dicomWebUrl, ILDFLOW_PACS_AUTH: 'basic:orch:wrong-password' });
    try {
      const created = await bad.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-DW-401-${process.pid}`, mixed.patient));
      const done = await waitForStatus(bad, created.body.id, ['failed', 'awaiting_review'], 30_000);
      const c = done.case ?? done;
      expect(c.status).toBe('failed');
      expect(c.failure.reason).toMatch(/refused ildflow's credentials \(HTTP 401\) after 3 attempt\(s\); check ILDFLOW_PACS_AUTH/);
      expect(c.failure.attempts).toBe(1);
    } finally {
      await bad.close();
    }
  });

  describe('when the PACS is down', () => {
    let retrieveQueue: Queue;
    beforeAll(() => {
      retrieveQueue = new Queue('retrieve', { connection: h.redis, prefix: `${h.prefix}:bull` });
    });
    afterAll(async () => retrieveQueue?.close());

    /** Skips BullMQ's production backoff (5 s, doubling) so the test need not sleep through it. */
    async function promoteRetries(caseId: string): Promise<number> {
      let n = 0;
      for (const job of await retrieveQueue.getDelayed()) {
        if (job.data.caseId !== caseId) continue;
        await job.promote();
        n++;
      }
      return n;
    }

    async function waitForFailedAttempt(caseId: string, atLeast: number): Promise<void> {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const jobs = await retrieveQueue.getJobs(['delayed', 'failed']);
        if (jobs.some((j) => j.data.caseId === caseId && j.attemptsMade >= atLeast)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no failed retrieve attempt ${atLeast} for ${caseId}`);
    }

    it('retries while it is down and completes when it comes back in time', async () => {
      await orthanc.stop();
      const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-DW-DOWN-${process.pid}`, mixed.patient));
      const id = created.body.id as string;
      await waitForFailedAttempt(id, 1);
      expect((await h.call('GET', `/v1/cases/${id}`, TOKENS.admin)).body.status).toBe('retrieving');
      await orthanc.start();
      expect(await promoteRetries(id)).toBe(1);
      const done = await waitForStatus(h, id, ['awaiting_review', 'failed']);
      expect((done.case ?? done).status).toBe('awaiting_review');
    });

    it('fails the case with the reason once the bounded retries are used up', async () => {
      await orthanc.stop();
      try {
        const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-DW-DEAD-${process.pid}`, mixed.patient));
        const id = created.body.id as string;
        for (let attempt = 1; attempt < 6; attempt++) {
          await waitForFailedAttempt(id, attempt);
          await promoteRetries(id);
        }
        const done = await waitForStatus(h, id, ['failed'], 30_000);
        const c = done.case ?? done;
        expect(c.failure.attempts).toBe(6);
        expect(c.failure.reason).toMatch(/QIDO-RS studies: ECONNREFUSED/);
      } finally {
        await orthanc.start();
      }
    });
  });

  it('stores an object back with STOW-RS, and QIDO-RS finds it', async () => {
    const dir = join(work, 'stow');
    const study = uid(9);
    const s = await series(dir, { patientId: `MRN-DW-STOW-${process.pid}`, study, series: uid(10), slices: 3, thickness: 1, rows: 32 });
    const source = createDicomWebSource(orthanc.dicomWebUrl, { auth: orthanc.auth });
    expect(await source.storeInstances(s.files.slice(0, 1), new AbortController().signal)).toEqual({ stored: 1 });
    const found = await orthanc.rest(`/dicom-web/studies?StudyInstanceUID=${study}`, { headers: { accept: 'application/dicom+json' } });
    expect(((await found.json()) as unknown[]).length).toBe(1);
  });
});
