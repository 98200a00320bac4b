/**
 * The same case over DICOMweb, C-GET and C-MOVE against one real Orthanc gives identical volumes and the
 * same result (issue 3 "Done means"); C-STORE puts an object back that QIDO-RS then finds.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE_DESCRIPTOR } from '../../shared/engines/reference/descriptor.js';
import { writeLabelMap } from '../../shared/engines/reference/write-label-map.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { createDimseSource } from '../../shared/pacs/dimse-source.js';
import { assembleVolume } from '../../shared/volume/assemble-volume.js';
import { freePort, isOrthancInstalled, startOrthanc, type Orthanc } from '../helpers/orthanc.js';
import { startHarness, TOKENS, waitForStatus } from '../helpers/pipeline-harness.js';

const PATIENT = `MRN-DIMSE-${process.pid}`;

const order = (id: string) => ({
  order: { id, orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
  patient: { id: PATIENT, name: 'TEST^DIMSE', birthDate: '1950-01-01', sex: 'F' },
  coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: '2026-11-27' } },
});

describe.skipIf(!isOrthancInstalled())('one case over DICOMweb, C-GET and C-MOVE (real Orthanc)', () => {
  let orthanc: Orthanc;
  let work: string;
  let scpPort: number;
  let seriesUid: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-pacs-dimse-'));
    scpPort = await freePort();
    orthanc = await startOrthanc({ modalities: { ILDFLOW: ['ILDFLOW', '127.0.0.1', scpPort] } });
    const r = await generatePhantom({
      dir: join(work, 'study'),
      pattern: 'uip',
      seed: 5,
      rows: 128,
      columns: 128,
      slices: 64,
      sliceThicknessMm: 2.5,
      shuffleInstanceNumbers: true,
      patient: { id: PATIENT, name: 'TEST^DIMSE', birthDate: '19500101', sex: 'F' },
      study: { accessionNumber: 'ACC-DIMSE', studyDate: '20261020' },
    });
    seriesUid = r.seriesInstanceUid;
    orthanc.storescu(r.files);
  });

  afterAll(async () => {
    await orthanc?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('completes the same case with identical volumes and results over each protocol', async () => {
    const urls = {
      dicomweb: orthanc.dicomWebUrl,
      'c-get': `dicom://ORTHANC@127.0.0.1:${orthanc.dicomPort}?retrieve=c-get&calling=ILDFLOW`,
      'c-move': `dicom://ORTHANC@127.0.0.1:${orthanc.dicomPort}?retrieve=c-move&calling=ILDFLOW&port=${scpPort}`,
    };
    const seen: Record<string, { volume: string; category: string; slices: number }> = {};
    for (const [name, url] of Object.entries(urls)) {
      const h = await startHarness({ ILDFLOW_PACS: url, ILDFLOW_PACS_AUTH: orthanc.auth });
      try {
        const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-${name}-${process.pid}`));
        const done = await waitForStatus(h, created.body.id, ['awaiting_review', 'failed', 'ineligible']);
        const c = done.case ?? done;
        expect(c.status, `${name}: ${JSON.stringify(c.failure ?? c.ineligibleReasons)}`).toBe('awaiting_review');
        expect(c.source.seriesInstanceUid).toBe(seriesUid);
        // The spool path never leaves the API (issue 11, F10): the store has it.
        const v = await assembleVolume((await h.runtime.store.get(c.id)).source!.seriesDir);
        seen[name] = {
          volume: createHash('sha256').update(new Uint8Array(v.hu.buffer, v.hu.byteOffset, v.hu.byteLength)).digest('hex'),
          category: c.result.classification.category,
          slices: c.source.sliceCount,
        };
      } finally {
        await h.close();
      }
    }
    expect(seen['c-get']).toEqual(seen.dicomweb);
    expect(seen['c-move']).toEqual(seen.dicomweb);
    expect(seen.dicomweb!.slices).toBe(64);
  });

  it('stores an object back with C-STORE, and QIDO-RS finds it', async () => {
    const study = `2.25.${Date.now()}${process.pid}77`;
    const r = await generatePhantom({ dir: join(work, 'store'), rows: 32, columns: 32, slices: 3, study: { studyInstanceUid: study }, patient: { id: `MRN-CSTORE-${process.pid}` } });
    const source = createDimseSource(`dicom://ORTHANC@127.0.0.1:${orthanc.dicomPort}?retrieve=c-get&calling=ILDFLOW`);
    expect(await source.storeInstances(r.files.slice(0, 1), new AbortController().signal)).toEqual({ stored: 1 });
    const found = await orthanc.rest(`/dicom-web/studies?StudyInstanceUID=${study}`, { headers: { accept: 'application/dicom+json' } });
    expect(((await found.json()) as unknown[]).length).toBe(1);
  });

  it("stores the engine's label map (a DICOM SEG) with C-STORE, and QIDO-RS finds it as a SEG series", async () => {
    const study = `2.25.${Date.now()}${process.pid}78`;
    const r = await generatePhantom({ dir: join(work, 'seg-ct'), rows: 32, columns: 32, slices: 3, study: { studyInstanceUid: study }, patient: { id: `MRN-CSTORE-SEG-${process.pid}` } });
    const volume = await assembleVolume(join(work, 'seg-ct'));
    const labels = new Uint8Array(32 * 32 * 3).fill(6, 32 * 32, 32 * 32 + 200);
    const seg = join(work, 'seg.dcm');
    await writeLabelMap(seg, volume, labels, join(work, 'seg-ct'), REFERENCE_DESCRIPTOR, new Date());
    const source = createDimseSource(`dicom://ORTHANC@127.0.0.1:${orthanc.dicomPort}?retrieve=c-get&calling=ILDFLOW`);
    expect(await source.storeInstances([seg], new AbortController().signal)).toEqual({ stored: 1 });
    const found = await orthanc.rest(`/dicom-web/studies/${r.studyInstanceUid}/series?Modality=SEG`, { headers: { accept: 'application/dicom+json' } });
    expect(((await found.json()) as unknown[]).length).toBe(1);
  });

  it('refuses a C-STORE association to the C-MOVE receiver while no move of ours is pending', async () => {
    // A C-STORE straight to the receiver, with no C-MOVE pending: the association itself is refused.
    const source = createDimseSource(`dicom://ORTHANC@127.0.0.1:${orthanc.dicomPort}?retrieve=c-move&calling=ILDFLOW&port=${scpPort}`);
    const intruder = createDimseSource(`dicom://ILDFLOW@127.0.0.1:${scpPort}?retrieve=c-get&calling=ORTHANC`, { retry: { attempts: 1 } });
    try {
      // Start the receiver through a real move, then send it something unasked for.
      const dir = await mkdtemp(join(work, 'spool-'));
      const studies = await source.findStudies({ patientId: PATIENT });
      await source.retrieveSeries(studies[0]!.studyInstanceUid, seriesUid, dir, new AbortController().signal);
      const stray = await generatePhantom({ dir: join(work, 'stray'), rows: 32, columns: 32, slices: 3 });
      await expect(intruder.storeInstances(stray.files.slice(0, 1), new AbortController().signal)).rejects.toThrow(/rejected the association|stored 0 of 1/);
    } finally {
      await source.close?.();
    }
  });
});
