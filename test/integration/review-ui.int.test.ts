/**
 * The review page in a real headless Chromium (Debian's, through playwright-core): a physician signs in
 * with a token, opens the queue and a case, sees the series in the viewer (on its first key image), accepts with the attestation and sees the
 * case signed; a second physician, meanwhile, sees the claim held and cannot sign. The API and all
 * workers run for real on a folder PACS. Screenshots are kept in test-artifacts/review-ui/.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';

const SHOTS = join(process.cwd(), 'test-artifacts', 'review-ui');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const PATIENT = { id: 'MRN-UI-5150', name: 'NAKAMURA^HARU', birthDate: '1952-01-30', sex: 'M' };

async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/review`);
  await page.fill('#token', token);
  await page.press('#token', 'Enter');
  await page.waitForSelector('#queue');
}

describe('the review page in Chromium', () => {
  let h: Harness;
  let ctx: BrowserContext;
  let profile: string;
  let id: string;
  const errors: string[] = [];

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    h = await startHarness();
    await generatePhantom({
      dir: join(h.pacsDir, 'ui'), pattern: 'uip', seed: 3, rows: 192, columns: 192, slices: 64, sliceThicknessMm: 2.5,
      patient: { id: PATIENT.id, name: PATIENT.name, birthDate: '19520130', sex: 'M' },
      study: { accessionNumber: 'ACC-UI-1', studyDate: '20261015' },
    });
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, {
      order: { id: 'ORD-UI-1', orderedAt: '2026-11-27T09:00:00Z', priority: 'stat', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
      patient: PATIENT,
      coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
    });
    id = created.body.id;
    await waitForStatus(h, id, ['awaiting_review']);
    profile = await mkdtemp(join(tmpdir(), 'ildflow-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true, viewport: { width: 1360, height: 980 } });
  });
  afterAll(async () => {
    await ctx?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await h?.close();
  });

  const watch = (page: Page) => {
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => void (m.type() === 'error' && errors.push(`console: ${m.text()}`)));
  };

  it('serves the page with its own CSP and no PHI', async () => {
    const res = await fetch(`${h.base}/review`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await res.text();
    expect(html).not.toContain(PATIENT.id);
  });

  it('refuses a bad token and says so', async () => {
    const page = await ctx.newPage();
    watch(page);
    await page.goto(`${h.base}/review`);
    await page.fill('#token', 'not-a-token');
    await page.press('#token', 'Enter');
    await expect.poll(() => page.textContent('#signin-error')).toMatch(/not accepted/);
    await page.close();
    errors.length = 0; // the 401 is logged by the browser as a failed resource: expected here
  });

  it('lets a physician sign in, open the case from the queue, see the key image, and sign with the attestation; a second physician sees the claim held', async () => {
    const ada = await ctx.newPage(); // sessionStorage is per tab: two physicians in two tabs
    const ben = await ctx.newPage();
    watch(ada);
    watch(ben);

    await signIn(ada, h.base, TOKENS.radiologist);
    const row = ada.locator(`#queue tr[data-id="${id}"]`);
    await expect.poll(() => row.textContent()).toContain('NAKAMURA, HARU');
    expect(await row.textContent()).toContain('stat');
    expect(await row.textContent()).toContain('2026-10-15');
    await ada.screenshot({ path: join(SHOTS, '1-queue.png'), fullPage: true });

    await row.click(); // opening a free case claims it
    // The key image is now the viewer's first slice, drawn at the series' own size (it was a 192-pixel PNG).
    await ada.waitForSelector('#viewer-canvas[data-slice]');
    await expect.poll(() => ada.$eval('#viewer-canvas', (c) => (c as unknown as { width: number }).width)).toBe(192);
    expect(await ada.textContent('#mine')).toMatch(/You hold this case/);
    expect(await ada.textContent('#category')).toBe('UIP pattern');
    expect(await ada.textContent('#regulatory')).toBe('Research use only');
    expect(await ada.locator('#zones .row').count()).toBe(3);
    expect(await ada.isDisabled('#sign')).toBe(true);
    await ada.screenshot({ path: join(SHOTS, '2-case.png'), fullPage: true });

    // The second physician sees the claim held, in the queue and on the case, and cannot sign.
    await signIn(ben, h.base, TOKENS.radiologist2);
    await expect.poll(() => ben.locator(`#queue tr[data-id="${id}"] .claim`).textContent()).toBe('held by Ada Reyes, MD');
    await ben.locator(`#queue tr[data-id="${id}"]`).click();
    await ben.waitForSelector('#held');
    expect(await ben.textContent('#held')).toContain('Held by Ada Reyes, MD');
    expect(await ben.isDisabled('#sign')).toBe(true);
    expect(await ben.isDisabled('#decision-accept')).toBe(true);
    await ben.screenshot({ path: join(SHOTS, '3-held-for-second-physician.png'), fullPage: true });

    // Keyboard: 1 = accept, a = attestation, Ctrl+Enter = sign.
    await ada.bringToFront();
    await ada.keyboard.press('1');
    expect(await ada.isDisabled('#sign')).toBe(true); // not yet attested
    await ada.keyboard.press('a');
    expect(await ada.isChecked('#attestation')).toBe(true);
    expect(await ada.textContent('#attestation-text')).toContain('and I accept its classification');
    await ada.keyboard.press('Control+Enter');
    await ada.waitForSelector('#signed');
    expect(await ada.textContent('#signed')).toContain('Accepted and signed by Ada Reyes, MD');
    await expect.poll(() => ada.locator('#files a').allTextContents(), { timeout: 30_000 }).toContain('report.pdf');
    await ada.screenshot({ path: join(SHOTS, '4-signed.png'), fullPage: true });

    const c = await waitForStatus(h, id, ['signed', 'billed']);
    expect(c.review).toMatchObject({ decision: 'accept', signer: { id: 'u-rad-1', npi: '1234567893' }, attestation: true });

    // The second physician's page, refreshed, now shows the case signed, with no form.
    await ben.reload();
    await ben.waitForSelector('#signed');
    expect(await ben.locator('#review-form').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
