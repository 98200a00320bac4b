/**
 * The reports of a reviewed case, through the real API, workers and Redis with a folder PACS: key images,
 * the engine's label map (SEG) and the unverified SR after analysis, and after signature the verified SR,
 * the PDF and the Encapsulated PDF,
 * checked with the real tools — dciodvfy (dicom3tools) and dsrdump (DCMTK) with no errors, pdftotext for
 * the PDF's text — and found in the PACS folder.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { REPORT_ARTIFACTS, reportRefsOf } from '../../shared/reports/report-refs.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';

const run = promisify(execFile);
/** Runs a tool; resolves with its exit code and output instead of throwing on a non-zero exit. */
async function tool(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, out: x.stdout ?? '', err: x.stderr ?? String(e) };
  }
}

/** dciodvfy: exit 0 and no "Error" line; dsrdump: exit 0 and no "E:" line. */
async function expectValidSr(file: string): Promise<string> {
  const v = await tool('dciodvfy', [file]);
  const errors = (v.err + v.out).split('\n').filter((l) => /^Error/.test(l));
  expect(errors, v.err).toEqual([]);
  expect(v.code).toBe(0);
  const d = await tool('dsrdump', ['-Ee', '-Ec', file]);
  expect(d.code, d.err).toBe(0);
  expect(d.err.split('\n').filter((l) => /^E:/.test(l))).toEqual([]);
  return d.out;
}

const PATIENT = { id: 'MRN-REP-2201', name: 'ALVAREZ^MARTA', birthDate: '1955-07-09', sex: 'F' };

describe('review reports', () => {
  let h: Harness;
  let id: string;
  const art = (name: string) => join(h.dataDir, 'cases', id, 'artifacts', name);

  beforeAll(async () => {
    h = await startHarness();
    await generatePhantom({
      dir: join(h.pacsDir, 'rep'), pattern: 'uip', seed: 5, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5,
      patient: { id: PATIENT.id, name: PATIENT.name, birthDate: '19550709', sex: 'F' },
      study: { accessionNumber: 'ACC-REP-1', studyDate: '20261020' },
    });
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, {
      order: { id: 'ORD-REP-1', orderedAt: '2026-11-27T09:00:00Z', priority: 'urgent', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
      patient: PATIENT,
      coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
    });
    id = created.body.id;
    await waitForStatus(h, id, ['awaiting_review']);
  });
  afterAll(async () => h?.close());

  it('renders the key images as PNG artifacts after analysis, served to a physician', async () => {
    const list = await h.call('GET', `/v1/cases/${id}/artifacts`, TOKENS.radiologist);
    const names = list.body.items.map((a: { name: string }) => a.name);
    expect(names).toEqual(expect.arrayContaining(['key-image-1.png', REPORT_ARTIFACTS.srPreliminary, REPORT_ARTIFACTS.fhir]));
    const res = await fetch(`${h.base}/v1/cases/${id}/artifacts/key-image-1.png`, { headers: { authorization: `Bearer ${TOKENS.radiologist}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const png = Buffer.from(await res.arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(128); // IHDR width: the slice's columns
  });

  it('writes an unverified SR after analysis that passes dciodvfy and dsrdump', async () => {
    const dump = await expectValidSr(art(REPORT_ARTIFACTS.srPreliminary));
    expect(dump).toMatch(/Verification Flag\s*:\s*UNVERIFIED/);
    expect(dump).toContain('Imaging Measurement Report');
    expect(dump).toContain('ALVAREZ^MARTA');
  });

  it("keeps the engine's label map as a DICOM SEG after analysis that passes dciodvfy and fits the series", async () => {
    const c = (await h.call('GET', `/v1/cases/${id}`, TOKENS.radiologist)).body;
    expect(c.labelMap).toMatchObject({ status: 'stored', segments: expect.arrayContaining([{ number: 1, key: 'normal' }]) });
    const v = await tool('dciodvfy', [art(REPORT_ARTIFACTS.labelMap)]);
    expect((v.err + v.out).split('\n').filter((l) => /^Error/.test(l)), v.err).toEqual([]);
    expect(v.code).toBe(0);
  });

  it('after signature writes a verified SR naming the signer, a PDF with the decision and numbers, and stores both to the PACS', async () => {
    expect((await h.call('POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status).toBe(200);
    const signed = await h.call('POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'amend', attestation: true, classification: { category: 'probable_uip', rationale: ['honeycombing not convincing on my read'] } });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    const billed = await waitForStatus(h, id, ['billed']);

    const dump = await expectValidSr(art(REPORT_ARTIFACTS.srFinal));
    expect(dump).toMatch(/Verification Flag\s*:\s*VERIFIED/);
    expect(dump).toMatch(/Completion Flag\s*:\s*COMPLETE/);
    expect(dump).toContain('Reyes^Ada'); // verifying observer and person observer
    expect(dump).toContain('ILD-PROBUIP'); // the physician's category, coded
    expect(dump).toContain('Referenced Segment'); // TID 1411: each class's group references the SEG's segment
    const verifier = await tool('dcmdump', ['+P', '0040,a073', '+P', '0040,a075', '+P', '0040,a088', art(REPORT_ARTIFACTS.srFinal)]);
    expect(verifier.out).toContain('Reyes^Ada');

    const pdfDicom = await tool('dciodvfy', [art(REPORT_ARTIFACTS.pdfDicom)]);
    expect((pdfDicom.err + pdfDicom.out).split('\n').filter((l) => /^Error/.test(l))).toEqual([]);

    const text = (await tool('pdftotext', ['-layout', art(REPORT_ARTIFACTS.pdf), '-'])).out;
    const q = billed.result.quantities;
    expect(text).toContain('AMEND to Probable UIP pattern');
    expect(text).toContain('Ada Reyes, MD, NPI 1234567893');
    expect(text).toContain(billed.review.signedAt);
    expect(text).toContain(`${q.lungVolumeMl} mL`);
    expect(text).toContain(`${q.extents.honeycombing} %`);
    expect(text).toContain(`${q.zones.lower.fibrosisPercent} %`);
    expect(text).toContain('research use only');
    expect(text).toContain('I have personally reviewed');

    // The PACS (a folder here) holds the verified SR, the label map (SEG) and the Encapsulated PDF.
    const inPacs = await readdir(join(h.pacsDir, 'ildflow-results'));
    expect(inPacs.sort()).toEqual([REPORT_ARTIFACTS.pdfDicom, REPORT_ARTIFACTS.srFinal, REPORT_ARTIFACTS.labelMap].sort());
    const refs = reportRefsOf(billed);
    expect(refs.srSopInstanceUid).toMatch(/^2\.25\.\d+$/);
    expect(refs.pdfSha256).toMatch(/^[0-9a-f]{64}$/);
    const stored = billed.artifacts.filter((a: { storedToPacsAt?: string }) => a.storedToPacsAt).map((a: { name: string }) => a.name);
    expect(stored.sort()).toEqual([REPORT_ARTIFACTS.pdfDicom, REPORT_ARTIFACTS.srFinal, REPORT_ARTIFACTS.labelMap].sort());
    expect(billed.timeline.map((e: { reason: string }) => e.reason).join('\n')).toMatch(/stored to the PACS/);
    const sr = await readFile(art(REPORT_ARTIFACTS.srFinal));
    expect(sr.includes(Buffer.from(refs.srSopInstanceUid!))).toBe(true);
  });
});
