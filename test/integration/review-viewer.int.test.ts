/**
 * The review viewer in a real headless Chromium (Debian's, through playwright-core), on the real API and
 * workers with a folder PACS: a physician scrolls the series by wheel and keys, applies the mediastinal
 * window and drags window/level (the canvas pixels change), turns the overlay off (its colours go) and on,
 * hides a class, jumps to a key image and to the slice with the most of a class, reads the slice's class
 * shares, and signs. With a `command` engine whose SEG marks every lung voxel consolidation the shares say
 * 100 % consolidation; with one that returns no map the viewer shows the images and says so.
 * Screenshots: test-artifacts/review-ui/viewer-*.png.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_ENGINE } from '../helpers/example-engines.js';
import { startHarness, TOKENS, type Harness } from '../helpers/pipeline-harness.js';
import { openChromium, orderReviewCase } from '../helpers/review-case.js';

const SHOTS = join(process.cwd(), 'test-artifacts', 'review-ui');
const PATIENT = { id: 'MRN-VWUI-8123', name: 'BRANDT^INES', birthDate: '1949-02-11', sex: 'F' } as const;
const SIZE = 192;

/** What the canvas shows: the slice and window it says it drew, how many pixels carry a colour, a checksum. */
function canvasState(page: Page) {
  return page.evaluate(() => {
    const c: any = (globalThis as any).document.querySelector('#viewer-canvas');
    const d: Uint8ClampedArray = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let coloured = 0;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) coloured++;
      sum = (sum * 31 + d[i]! + d[i + 1]! * 7 + d[i + 2]! * 13) % 1_000_000_007;
    }
    return { slice: Number(c.dataset.slice), window: String(c.dataset.window), overlay: c.dataset.overlay === 'true', coloured, sum, width: c.width, height: c.height };
  });
}

const sliderValue = (page: Page) => page.$eval('#slice-slider', (s: any) => Number(s.value));
const drawnSlice = async (page: Page) => (await canvasState(page)).slice;

async function openCase(page: Page, base: string, id: string): Promise<void> {
  await page.goto(`${base}/review`);
  await page.fill('#token', TOKENS.radiologist);
  await page.press('#token', 'Enter');
  await page.waitForSelector('#queue');
  await page.evaluate(`location.hash = '#/case/${id}'`);
  await page.waitForSelector('#viewer-canvas[data-slice]');
}

describe('the review viewer in Chromium (reference engine)', () => {
  let h: Harness;
  let browser: Awaited<ReturnType<typeof openChromium>>;
  let id: string;
  const errors: string[] = [];

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    h = await startHarness();
    id = await orderReviewCase(h, { patient: PATIENT, orderId: 'ORD-VWUI-1', seed: 3, size: SIZE });
    browser = await openChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('scrolls, windows, toggles the overlay and classes, jumps to key images and to the most of a class, shows shares, and signs', async () => {
    const viewer = (await h.call('GET', `/v1/cases/${id}/viewer`, TOKENS.radiologist)).body;
    const keys = viewer.keyImages.map((k: any) => k.sliceIndex) as number[];
    const count = viewer.series.sliceCount as number;
    expect(keys.length).toBeGreaterThan(1);
    const page = await browser.ctx.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => void (m.type() === 'error' && errors.push(`console: ${m.text()}`)));
    page.on('response', (r) => void (r.status() >= 400 && errors.push(`HTTP ${r.status()} ${r.url().replace(h.base, '')}`)));
    await page.route('**/favicon.ico', (r) => r.fulfill({ status: 204 })); // the page has none; Chromium asks once per profile
    await openCase(page, h.base, id);

    // It opens on the first key image, in the lung window, with the overlay on.
    await expect.poll(() => drawnSlice(page)).toBe(keys[0]);
    const opened = await canvasState(page);
    expect(opened).toMatchObject({ width: SIZE, height: SIZE, window: '1500/-600', overlay: true });
    expect(opened.coloured).toBeGreaterThan(0); // the engine's classes on the key image
    expect(await page.getAttribute('#viewer-canvas', 'aria-label')).toContain(`Slice ${keys[0]! + 1} of ${count}`);
    expect(await page.locator('#slice-shares dd').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'viewer-1-key-image.png'), fullPage: true });

    // Scroll: the wheel over the image, then the keys (the image has the focus).
    const box = (await page.locator('#viewer-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 100);
    await expect.poll(() => drawnSlice(page)).toBe(keys[0]! + 1);
    await page.mouse.wheel(0, -100);
    await page.mouse.wheel(0, -100);
    await expect.poll(() => drawnSlice(page)).toBe(keys[0]! - 1);
    await page.focus('#viewer-canvas');
    await page.keyboard.press('Home');
    await expect.poll(() => drawnSlice(page)).toBe(0);
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => drawnSlice(page)).toBe(1);
    await page.keyboard.press('PageDown');
    await expect.poll(() => drawnSlice(page)).toBe(11);
    await page.keyboard.press('ArrowUp');
    await expect.poll(() => drawnSlice(page)).toBe(10);
    await page.keyboard.press('End');
    await expect.poll(() => drawnSlice(page)).toBe(count - 1);
    expect(await sliderValue(page)).toBe(count - 1);
    await page.locator('#slice-slider').fill('30'); // the slider
    await expect.poll(() => drawnSlice(page)).toBe(30);

    // Jump to a key image: the slider says its slice.
    await page.click('#key-jump-2');
    await expect.poll(() => drawnSlice(page)).toBe(keys[1]);
    expect(await sliderValue(page)).toBe(keys[1]);
    const lung = await canvasState(page);

    // The mediastinal preset changes the pixels, and so does a right-drag of window/level.
    await page.click('#preset-mediastinal');
    await expect.poll(async () => (await canvasState(page)).window).toBe('350/40');
    const mediastinal = await canvasState(page);
    expect(mediastinal.sum).not.toBe(lung.sum);
    expect(await page.getAttribute('#preset-mediastinal', 'aria-pressed')).toBe('true');
    await page.screenshot({ path: join(SHOTS, 'viewer-2-mediastinal.png'), fullPage: true });
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down({ button: 'right' });
    await page.mouse.move(box.x + box.width / 2 + 50, box.y + box.height / 2 + 20, { steps: 5 });
    await page.mouse.up({ button: 'right' });
    const dragged = await canvasState(page);
    expect(dragged.window).toBe('550/80');
    expect(dragged.sum).not.toBe(mediastinal.sum);
    await page.keyboard.press('l');
    await expect.poll(async () => (await canvasState(page)).sum).toBe(lung.sum); // back to the lung window, same pixels

    // The overlay off: its colours go; on again: they come back. Opacity 0 shows none either.
    expect(lung.coloured).toBeGreaterThan(0);
    await page.click('#overlay-toggle');
    await expect.poll(async () => (await canvasState(page)).coloured).toBe(0);
    expect((await canvasState(page)).overlay).toBe(false);
    await page.screenshot({ path: join(SHOTS, 'viewer-3-overlay-off.png'), fullPage: true });
    await page.click('#overlay-toggle');
    await expect.poll(async () => (await canvasState(page)).coloured).toBe(lung.coloured);
    await page.locator('#overlay-opacity').fill('0');
    await expect.poll(async () => (await canvasState(page)).coloured).toBe(0);
    await page.locator('#overlay-opacity').fill('45');

    // The slice with the most of each class the engine found; hiding that class takes its colour away.
    const k: number = viewer.classes.findIndex((c: any, j: number) => c.rgb && viewer.classCounts.some((row: number[]) => row[j]! > 0));
    const cls = viewer.classes[k];
    const most = viewer.classCounts.reduce((best: number, row: number[], z: number) => (row[k]! > viewer.classCounts[best][k] ? z : best), 0);
    await page.click(`#most-${cls.key}`);
    await expect.poll(() => drawnSlice(page)).toBe(most);
    expect(await sliderValue(page)).toBe(most);
    const row = viewer.classCounts[most] as number[];
    const share = (row[k]! / row.reduce((a, b) => a + b, 0)) * 100;
    const shown = await page.textContent(`#slice-shares dd[data-key="${cls.key}"]`);
    expect(Number(shown!.replace('%', ''))).toBeCloseTo(share, share >= 10 ? -0.3 : 1);
    const before = await canvasState(page);
    await page.uncheck(`#class-${cls.key}`);
    await expect.poll(async () => (await canvasState(page)).coloured).toBeLessThan(before.coloured);
    await page.check(`#class-${cls.key}`);
    await page.screenshot({ path: join(SHOTS, 'viewer-4-most-of-class.png'), fullPage: true });
    console.log(`viewer: last slice change ${await page.textContent('#viewer-timing')} (fetch + draw, in the page)`);

    // Sign from the keyboard, as before the viewer.
    await page.locator('body').focus();
    await page.keyboard.press('1');
    await page.keyboard.press('a');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('#signed');
    expect(await page.textContent('#signed')).toContain('Accepted and signed by Ada Reyes, MD');
    await page.screenshot({ path: join(SHOTS, 'viewer-5-signed.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});

describe('the review viewer with a command engine', () => {
  let h: Harness | undefined;
  let browser: Awaited<ReturnType<typeof openChromium>> | undefined;
  afterEach(async () => {
    await browser?.close();
    await h?.close();
    browser = h = undefined;
  });

  /** A case analysed by the example command engine in `mode`, open in the viewer. */
  async function openCommandCase(mode: 'seg' | 'keys'): Promise<Page> {
    h = await startHarness({ ILDFLOW_ENGINE: `command:${COMMAND_ENGINE} ${mode}` });
    const id = await orderReviewCase(h, { patient: PATIENT, orderId: `ORD-VWUI-${mode}`, seed: 5 });
    browser = await openChromium();
    const page = await browser.ctx.newPage();
    await openCase(page, h.base, id);
    return page;
  }

  it('shows consolidation in the shares when the engine’s SEG marks every lung voxel consolidation', async () => {
    const page = await openCommandCase('seg');
    await page.click('#most-consolidation');
    await expect.poll(() => page.textContent('#slice-shares dd[data-key="consolidation"]')).toBe('100%');
    expect(await page.textContent('#slice-shares dd[data-key="normal"]')).toBe('0%');
    expect(await page.isDisabled('#most-honeycombing')).toBe(true); // no other class anywhere
    expect((await canvasState(page)).coloured).toBeGreaterThan(500);
    await page.screenshot({ path: join(SHOTS, 'viewer-6-consolidation-engine.png'), fullPage: true });
  }, 300_000);

  it('shows the images and says the engine returned no overlay when it returned no label map', async () => {
    const page = await openCommandCase('keys');
    expect(await page.textContent('#no-overlay')).toContain('This engine returned no overlay');
    const s = await canvasState(page);
    expect(s.coloured).toBe(0);
    expect(s.overlay).toBe(false);
    expect(await page.isDisabled('#overlay-toggle')).toBe(true);
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => drawnSlice(page)).toBe(s.slice + 1);
    await page.screenshot({ path: join(SHOTS, 'viewer-7-no-overlay.png'), fullPage: true });
  }, 300_000);
});
