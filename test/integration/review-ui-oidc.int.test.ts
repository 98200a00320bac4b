/**
 * The review page signs in at the hospital's OpenID Provider in a real headless Chromium: the page sends the
 * physician to the provider (authorization code + PKCE, a public client), the physician fills in the
 * provider's own login form and consents, the page exchanges the code and works the case to signed as that
 * physician. The API and all workers run for real on a folder PACS; the API starts before the provider is up
 * (discovery is read on the first provider token).
 */
import { createServer } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, startProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';
import { openChromium, orderReviewCase, type ReviewCasePatient } from '../helpers/review-case.js';

const PATIENT: ReviewCasePatient = { id: 'MRN-UIO-7', name: 'SILVA^JOAO', birthDate: '1950-05-05', sex: 'M' };

/** A port nobody listens on now: the provider's, named in the API's configuration before it starts. */
async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('the review page signed in at the OpenID Provider, in Chromium', () => {
  let op: TestProvider;
  let h: Harness;
  let browser: Awaited<ReturnType<typeof openChromium>>;
  let id: string;
  const errors: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    h = await startHarness({ ILDFLOW_OIDC_ISSUER: `http://127.0.0.1:${port}`, ILDFLOW_OIDC_CLIENT_ID: CLIENT_ID });
    op = await startProvider({ jsilva: { name: 'Joana Silva, MD', roles: ['radiologist'], npi: '1553820675' } }, { port, redirectUri: `${h.base}/review` });
    id = await orderReviewCase(h, { patient: PATIENT, orderId: 'ORD-UIO-1', seed: 11, priority: 'stat' });
    browser = await openChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await op?.stop();
  });

  const watch = (page: Page) => {
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  };

  it('signs in through the provider’s login form and signs the case as that physician', async () => {
    const page = await browser.ctx.newPage();
    watch(page);
    await page.goto(`${h.base}/review`);
    await page.click('#provider-sign-in');
    // The provider's own login and consent pages (oidc-provider's development interactions).
    await page.waitForURL((u) => u.origin === op.issuer);
    await page.fill('input[name="login"]', 'jsilva');
    await page.fill('input[name="password"]', 'any password');
    await page.click('button[type="submit"]');
    await page.waitForSelector('button[type="submit"]:has-text("Continue")');
    await page.click('button[type="submit"]');

    await page.waitForSelector('#queue');
    expect(new URL(page.url()).search).toBe(''); // the code is off the address bar
    expect(await page.textContent('#who')).toContain('Joana Silva, MD · NPI 1553820675');
    await page.locator(`#queue tr[data-id="${id}"]`).click();
    await page.waitForSelector('#mine');
    await page.keyboard.press('1');
    await page.keyboard.press('a');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('#signed');
    expect(await page.textContent('#signed')).toContain('Accepted and signed by Joana Silva, MD');
    const signed = await waitForStatus(h, id, ['signed', 'billed']);
    expect(signed.review.signer).toMatchObject({ name: 'Joana Silva, MD', npi: '1553820675' });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says so clearly when the provider cannot be reached, and keeps token sign-in', async () => {
    await op.stop();
    const page = await browser.ctx.newPage();
    await page.goto(`${h.base}/review`);
    await page.click('#provider-sign-in');
    await expect.poll(() => page.textContent('#signin-error')).toContain('The hospital sign-in cannot be reached right now');
    await page.fill('#token', TOKENS.radiologist);
    await page.press('#token', 'Enter');
    await expect.poll(() => page.textContent('#who')).toContain('Ada Reyes, MD');
    await page.close();
  });
});
