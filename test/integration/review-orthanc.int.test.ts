/**
 * The signed reports reach a real PACS: Orthanc with its DICOMweb plugin (test/helpers/orthanc.ts). The
 * whole pipeline runs against it — QIDO/WADO retrieval, analysis, review, then the report worker stores
 * the verified SR, the engine's label map (SEG) and the Encapsulated PDF with STOW-RS (`ImageSource.storeInstances`) — and Orthanc is
 * then asked for them by QIDO-RS in the CT's study.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { SEGMENTATION_STORAGE } from '../../shared/dicom/seg/write-seg.js';
import { COMPREHENSIVE_3D_SR } from '../../shared/reports/sr/build-ild-sr.js';
import { ENCAPSULATED_PDF_STORAGE } from '../../shared/reports/pdf/encapsulated-pdf.js';
import { REPORT_ARTIFACTS } from '../../shared/reports/report-refs.js';
import { isOrthancInstalled, startOrthanc, type Orthanc } from '../helpers/orthanc.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';

const PATIENT = { id: 'MRN-ORTH-8080', name: 'BERGSTROM^INGA', birthDate: '1949-12-01', sex: 'F' };

describe.skipIf(!isOrthancInstalled())('reports stored to Orthanc', () => {
  let orthanc: Orthanc;
  let h: Harness;
  let work: string;
  let studyUid: string;

  beforeAll(async () => {
    orthanc = await startOrthanc();
    work = await mkdtemp(join(tmpdir(), 'ildflow-orth-'));
    const p = await generatePhantom({
      dir: join(work, 'ct'), pattern: 'uip', seed: 9, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5,
      patient: { id: PATIENT.id, name: PATIENT.name, birthDate: '19491201', sex: 'F' },
      study: { accessionNumber: 'ACC-ORTH-1', studyDate: '20261012' },
    });
    studyUid = p.studyInstanceUid;
    orthanc.storescu((await readdir(join(work, 'ct'))).filter((f) => f.endsWith('.dcm')).map((f) => join(work, 'ct', f)));
    h = await startHarness({ ILDFLOW_PACS: orthanc.dicomWebUrl, ILDFLOW_PACS_AUTH: orthanc.auth });
  });
  afterAll(async () => {
    await h?.close();
    await orthanc?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('finds the verified SR, the label map (SEG) and the Encapsulated PDF in the CT study after signature', async () => {
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, {
      order: { id: 'ORD-ORTH-1', orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
      patient: PATIENT,
      study: { studyInstanceUid: studyUid },
      coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    await waitForStatus(h, id, ['awaiting_review'], 90_000);
    expect((await h.call('POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status).toBe(200);
    expect((await h.call('POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'accept', attestation: true })).status).toBe(200);
    const billed = await waitForStatus(h, id, ['billed'], 90_000);
    const sr = billed.artifacts.find((a: { name: string }) => a.name === REPORT_ARTIFACTS.srFinal);
    const pdf = billed.artifacts.find((a: { name: string }) => a.name === REPORT_ARTIFACTS.pdfDicom);
    const seg = billed.artifacts.find((a: { name: string }) => a.name === REPORT_ARTIFACTS.labelMap);

    const res = await orthanc.rest(`/dicom-web/studies/${studyUid}/instances`, { headers: { accept: 'application/dicom+json' } });
    expect(res.status).toBe(200);
    const instances = (await res.json()) as Record<string, { Value?: string[] }>[];
    const byUid = new Map(instances.map((i) => [i['00080018']?.Value?.[0], i['00080016']?.Value?.[0]]));
    expect(byUid.get(sr.dicom.sopInstanceUid)).toBe(COMPREHENSIVE_3D_SR);
    expect(byUid.get(pdf.dicom.sopInstanceUid)).toBe(ENCAPSULATED_PDF_STORAGE);
    expect(byUid.get(seg.dicom.sopInstanceUid)).toBe(SEGMENTATION_STORAGE);
    // QIDO-RS by modality finds the SEG series, filed under the CT's patient and Frame of Reference's study.
    const segSeries = await (await orthanc.rest(`/dicom-web/studies/${studyUid}/series?Modality=SEG&includefield=00100020`, { headers: { accept: 'application/dicom+json' } })).json() as Record<string, { Value?: string[] }>[];
    expect(segSeries.map((x) => x['0020000E']?.Value?.[0])).toEqual([seg.dicom.seriesInstanceUid]);
    expect(segSeries[0]!['00100020']?.Value?.[0]).toBe(PATIENT.id);
    // Filed under the same patient as the CT.
    const tags = await (await orthanc.rest(`/dicom-web/studies/${studyUid}/series?Modality=SR&includefield=00100020`, { headers: { accept: 'application/dicom+json' } })).json() as Record<string, { Value?: string[] }>[];
    expect(tags).toHaveLength(1);
    expect(tags[0]!['00100020']?.Value?.[0]).toBe(PATIENT.id);
  });
});
