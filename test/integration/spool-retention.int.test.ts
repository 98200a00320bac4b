/**
 * Spool retention (issue 17): with ILDFLOW_SPOOL_RETENTION_HOURS=0, a signed and billed case loses its
 * spooled series within one purge interval and keeps every report; the case, its artifacts and the review
 * page (real Chromium) then say the images are in the PACS. A case in review keeps its spool. The API and
 * every worker run for real (BullMQ job scheduler included) on the real Redis and a folder PACS.
 */
import { readdir, stat } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';

const PURGE_INTERVAL_S = 2;
const PATIENT = { id: 'MRN-RET-2207', name: 'OKONJO^ADA', birthDate: '1949-07-21', sex: 'F' };

const exists = (p: string) => stat(p).then(() => true, () => false);

describe('spool retention', () => {
  let h: Harness;
  let id: string;
  let caseDir: string;

  beforeAll(async () => {
    h = await startHarness({ ILDFLOW_SPOOL_RETENTION_HOURS: '0', ILDFLOW_SPOOL_PURGE_INTERVAL_SECONDS: String(PURGE_INTERVAL_S) });
    await generatePhantom({
      dir: join(h.pacsDir, 'ret'), pattern: 'uip', seed: 5, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5,
      patient: { id: PATIENT.id, name: PATIENT.name, birthDate: '19490721', sex: 'F' },
      study: { accessionNumber: 'ACC-RET-1', studyDate: '20261012' },
    });
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, {
      order: { id: 'ORD-RET-1', orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
      patient: PATIENT,
      coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
    });
    id = created.body.id;
    caseDir = join(h.dataDir, 'cases', id);
  });
  afterAll(async () => h?.close());

  it('keeps the series while the case is in review, even with a 0-hour retention', async () => {
    await waitForStatus(h, id, ['awaiting_review']);
    await new Promise((r) => setTimeout(r, (PURGE_INTERVAL_S + 1) * 1000)); // a purge run comes and goes
    expect((await readdir(join(caseDir, 'series'))).length).toBe(64);
    const c = await h.call('GET', `/v1/cases/${id}`, TOKENS.radiologist);
    expect(c.body.images).toMatchObject({ heldBy: 'ildflow' });
  });

  it('removes the series of a signed and billed case within one purge interval and keeps every report', async () => {
    expect((await h.call('POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status).toBe(200);
    expect((await h.call('POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'accept', attestation: true })).status).toBe(200);
    const billed = await waitForStatus(h, id, ['billed']);
    const billedAt = Date.now();
    while ((await exists(join(caseDir, 'series'))) && Date.now() - billedAt < (PURGE_INTERVAL_S + 2) * 1000) await new Promise((r) => setTimeout(r, 100));
    const tookMs = Date.now() - billedAt;
    expect(await exists(join(caseDir, 'series')), `series still there ${tookMs} ms after billed`).toBe(false);
    expect(tookMs).toBeLessThanOrEqual(PURGE_INTERVAL_S * 1000 + 1000);
    expect((await readdir(caseDir)).filter((n) => n.startsWith('spool-'))).toEqual([]);

    // Every document the case lists is still on disk and served.
    const names = (billed.artifacts as { name: string }[]).map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(['engine-result.json', 'diagnostic-report.json', 'sr-preliminary.dcm', 'sr-final.dcm', 'report.pdf', 'report-pdf.dcm', 'key-image-1.png']));
    for (const n of names) expect(await exists(join(caseDir, 'artifacts', n)), n).toBe(true);
    const pdf = await h.call('GET', `/v1/cases/${id}/artifacts/report.pdf`, TOKENS.billing);
    expect(pdf.status).toBe(200);

    // The case and its artifacts say where the images are now; the timeline and the audit trail say what happened.
    await expect.poll(async () => (await h.call('GET', `/v1/cases/${id}`, TOKENS.admin)).body.images?.heldBy).toBe('pacs');
    const c = (await h.call('GET', `/v1/cases/${id}`, TOKENS.admin)).body;
    expect(c.status).toBe('billed');
    expect(c.images).toMatchObject({ heldBy: 'pacs', seriesInstanceUid: c.source.seriesInstanceUid, note: expect.stringContaining('the images are in the PACS') });
    expect(c.spool.bytes).toBeGreaterThan(64 * 128 * 128 * 2);
    expect(c.timeline.at(-1)).toMatchObject({ actor: 'worker:purge-spools', from: 'billed', to: 'billed', reason: expect.stringContaining('the images are in the PACS') });
    const listed = await h.call('GET', `/v1/cases/${id}/artifacts`, TOKENS.radiologist);
    expect(listed.body.images).toMatchObject({ heldBy: 'pacs', purgedAt: c.spool.purgedAt });
    expect(await h.runtime.store.auditTrail(100_000)).toContainEqual(expect.objectContaining({ userId: 'worker:purge-spools', action: 'spool.purge', caseId: id }));
    const metrics = await h.call('GET', '/metrics', null);
    expect(metrics.body).toMatch(/^ildflow_spool_purged_cases_total 1$/m);
    expect(Number(/^ildflow_spool_purged_bytes_total (\d+)$/m.exec(metrics.body)?.[1])).toBe(c.spool.bytes);
  });

  it('shows on the review page that the images are in the PACS', async () => {
    const profile = await mkdtemp(join(tmpdir(), 'ildflow-chromium-'));
    const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'], headless: true });
    try {
      const page = await ctx.newPage();
      await page.goto(`${h.base}/review`);
      await page.fill('#token', TOKENS.radiologist);
      await page.press('#token', 'Enter');
      await page.waitForSelector('text=Review queue (0)'); // signed in; the billed case is out of the queue
      await page.evaluate(`location.hash = '#/case/${id}'`);
      await page.waitForSelector('#images-in-pacs');
      expect(await page.textContent('#images-in-pacs')).toContain('the images are in the PACS');
      await page.waitForSelector('#key-image'); // the report's key images stay
    } finally {
      await ctx.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});
