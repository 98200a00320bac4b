/**
 * The overlay is the label map of the engine that ran (docs/design.md §5 "Label maps"), through the real
 * API, workers and Redis with a folder PACS and a `command` engine (test/fixtures/engines): an engine whose
 * SEG marks every lung voxel as consolidation makes the key image and the PDF show consolidation; an
 * engine without a map shows no overlay, and the case, the page's data and the PDF say so.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { REPORT_ARTIFACTS } from '../../shared/reports/report-refs.js';
import { COMMAND_ENGINE } from '../helpers/example-engines.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';
import { isConsolidation, isGrey, pngPixels } from '../helpers/png-pixels.js';

const run = promisify(execFile);
const PATIENT = { id: 'MRN-SEG-3301', name: 'OKAFOR^NGOZI', birthDate: '1958-03-14', sex: 'F' };

async function reviewedCase(h: Harness, order: string): Promise<{ id: string; review: any; billed: any }> {
  await generatePhantom({
    dir: join(h.pacsDir, 'ct'), pattern: 'uip', seed: 5, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5,
    patient: { id: PATIENT.id, name: PATIENT.name, birthDate: '19580314', sex: 'F' },
    study: { accessionNumber: `ACC-${order}`, studyDate: '20261015' },
  });
  const created = await h.call('POST', '/v1/cases', TOKENS.orderer, {
    order: { id: order, orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
    patient: PATIENT,
    coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
  });
  const id = created.body.id as string;
  const review = await waitForStatus(h, id, ['awaiting_review'], 120_000);
  expect((await h.call('POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status).toBe(200);
  expect((await h.call('POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'accept', attestation: true })).status).toBe(200);
  return { id, review, billed: await waitForStatus(h, id, ['billed'], 120_000) };
}

async function keyImage(h: Harness, id: string): Promise<ReturnType<typeof pngPixels>> {
  const res = await fetch(`${h.base}/v1/cases/${id}/artifacts/key-image-1.png`, { headers: { authorization: `Bearer ${TOKENS.radiologist}` } });
  expect(res.status).toBe(200);
  return pngPixels(Buffer.from(await res.arrayBuffer()));
}

const pdfText = async (h: Harness, id: string) => (await run('pdftotext', ['-layout', join(h.dataDir, 'cases', id, 'artifacts', REPORT_ARTIFACTS.pdf), '-'])).stdout;

describe('the overlay is the label map of the engine that ran', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('shows consolidation on the key image and in the PDF when the engine marks every lung voxel consolidation', async () => {
    h = await startHarness({ ILDFLOW_ENGINE: `command:${COMMAND_ENGINE} seg` });
    const { id, review } = await reviewedCase(h, 'ORD-SEG-1');
    expect(review.labelMap).toMatchObject({ status: 'stored', segments: [{ number: 6, key: 'consolidation' }] });
    const { width, height, rgb } = await keyImage(h, id);
    const coloured = Array.from({ length: width * height }, (_, i) => i).filter((i) => !isGrey(rgb, i));
    expect(coloured.length).toBeGreaterThan(500); // the lungs of the middle slice
    expect(coloured.filter((i) => !isConsolidation(rgb, i))).toEqual([]);
    const text = await pdfText(h, id);
    expect(text).toContain("the engine's label map");
    expect(text).toMatch(/Consolidation/);
    expect(text).not.toContain('No overlay');
  }, 300_000);

  it('shows no overlay for an engine without a map, and says so on the case and in the PDF', async () => {
    h = await startHarness({ ILDFLOW_ENGINE: `command:${COMMAND_ENGINE} keys` });
    const { id, review } = await reviewedCase(h, 'ORD-SEG-2');
    expect(review.labelMap).toEqual({ status: 'none', reason: expect.stringMatching(/returned no label map: no overlay is shown/) });
    const { width, height, rgb } = await keyImage(h, id);
    expect(Array.from({ length: width * height }, (_, i) => i).filter((i) => !isGrey(rgb, i))).toEqual([]);
    expect(await pdfText(h, id)).toMatch(/No overlay: example example-command engine returned no label map/);
  }, 300_000);
});
