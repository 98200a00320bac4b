/**
 * The reference engine against the scanner-physics phantom (tools/phantom/scanner): the subset of
 * `npm run validate` that runs in `npm test`. It covers both drawing families and every pattern, with a
 * seed the thresholds were not set on, at 1 mm pixels and 2 mm slices (cheap enough for CI).
 *
 * These are regression bounds, looser than issue 10's targets: the engine meets those on the category,
 * LAA-950 and lung volume here, but not on every extent (honeycombing read as reticulation) nor on HAA.
 * docs/reference-engine.md gives the measured errors. The file then checks:
 * - the scan physics the engine measured, against what the generator rendered;
 * - metamorphic invariance: a left–right flip and a +20 HU calibration offset change nothing that matters;
 * - a low-dose scan (noise 120 HU at 0.7 mm pixels), where the density box is at its widest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhantomPattern } from '../../phantom/generate-phantom.js';
import { assembleVolume, type Volume } from '../../volume/assemble-volume.js';
import { generateScannerPhantom, type ScannerFamily, type ScannerPhantomTruth } from '../../../tools/phantom/scanner/generate-scanner-phantom.js';
import { analyzeVolume, type AnalysisResult } from './analyze-volume.js';

const CLASSES = ['normal', 'groundGlass', 'reticulation', 'honeycombing', 'emphysema', 'consolidation'] as const;
/** The physics point of the CI subset: a lung kernel, typical dose, 1 mm pixels, 2 mm slices. */
const PHYSICS = { psfSigmaMm: 0.6, noiseHu: 30, sliceThicknessMm: 2, pixelSpacingMm: 1 } as const;
const SEED = 2;
/** Regression bounds (see above); issue 10's targets are 5, 0.5 and 0.5 points. */
const BOUND = { categoryAccuracy: 0.9, extentPoints: 12, haaPoints: 0.6, laaPoints: 0.5 } as const;
const categories: boolean[] = [];

let root: string;
beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'ildflow-scanner-')); });
afterAll(async () => rm(root, { recursive: true, force: true }));

const cache = new Map<string, Promise<{ volume: Volume; truth: ScannerPhantomTruth; result: AnalysisResult }>>();
function run(family: ScannerFamily, pattern: PhantomPattern): Promise<{ volume: Volume; truth: ScannerPhantomTruth; result: AnalysisResult }> {
  const key = `${family}-${pattern}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const dir = join(root, key);
      const { truth } = await generateScannerPhantom({ dir, family, pattern, seed: SEED, ...PHYSICS, superSample: 2, subSliceMm: 0.5 });
      const volume = await assembleVolume(dir);
      await rm(dir, { recursive: true, force: true });
      return { volume, truth, result: await analyzeVolume(volume) };
    })();
    cache.set(key, p);
  }
  return p;
}

describe.each<ScannerFamily>(['voronoi', 'fibre'])('the %s family', (family) => {
  it.each<PhantomPattern>(['normal', 'uip', 'probable_uip', 'nsip', 'emphysema'])('%s: category, extents, HAA and LAA-950 within the bounds', { timeout: 240_000 }, async (pattern) => {
    const { truth, result } = await run(family, pattern);
    const q = result.quantities;
    const errors = Object.fromEntries(CLASSES.map((c) => [c, Number((q.extents[c] - truth.extents[c]).toFixed(2))]));
    const where = `${family} ${pattern}: extents ${JSON.stringify(errors)}; ${result.classification.rationale.at(-1)}`;
    categories.push(result.classification.category === truth.expectedCategory);
    if (pattern === 'normal' || pattern === 'nsip') expect(result.classification.category, where).toBe(truth.expectedCategory);
    for (const c of CLASSES) expect(Math.abs(errors[c]!), `${where} (${c})`).toBeLessThanOrEqual(BOUND.extentPoints);
    expect(Math.abs(q.haaPercent - truth.haaPercent), `${where} HAA`).toBeLessThanOrEqual(BOUND.haaPoints);
    expect(Math.abs(q.laa950Percent - truth.laa950Percent), `${where} LAA-950`).toBeLessThanOrEqual(BOUND.laaPoints);
    expect(Math.abs(q.lungVolumeMl - truth.lungVolumeMl) / truth.lungVolumeMl, `${where} lung volume`).toBeLessThan(0.03);
  });
});

describe('a low-dose scan: noise 120 HU, 0.7 mm pixels', () => {
  // The density box widens with the noise; the texture must still be read through the small box, the
  // lung surface through 3 × 3 means and air holes only beyond the noise margin, or reticulation reads as
  // ground glass, noise as emphysema, and the mask takes the chest wall's noisy partial volume. Before
  // those three: uip read as ground-glass predominant; normal with 8.4 % emphysema and HAA +2.0 points.
  // After: normal HAA +0.7 (issue 10's 0.5 is not met at this dose), hence the bound of 1.
  const LOW_DOSE = { ...PHYSICS, noiseHu: 120, pixelSpacingMm: 0.7 } as const;
  it.each<[PhantomPattern, string]>([['uip', 'uip'], ['normal', 'no_fibrosis']])('%s stays %s; ground glass and emphysema within 5 points, HAA within 1', { timeout: 300_000 }, async (pattern, category) => {
    const dir = join(root, `low-dose-${pattern}`);
    const { truth } = await generateScannerPhantom({ dir, family: 'fibre', pattern, seed: SEED, ...LOW_DOSE, superSample: 2, subSliceMm: 0.5 });
    const result = await analyzeVolume(await assembleVolume(dir));
    await rm(dir, { recursive: true, force: true });
    const q = result.quantities;
    const where = `low-dose ${pattern}: ${JSON.stringify(q.extents)}; HAA ${q.haaPercent} vs ${truth.haaPercent}; ${result.classification.rationale.at(-1)}`;
    expect(result.classification.category, where).toBe(category);
    for (const c of CLASSES) expect(Math.abs(q.extents[c] - truth.extents[c]), `${where} (${c})`).toBeLessThanOrEqual(BOUND.extentPoints);
    expect(Math.abs(q.extents.groundGlass - truth.extents.groundGlass), where).toBeLessThanOrEqual(5);
    expect(Math.abs(q.extents.emphysema - truth.extents.emphysema), where).toBeLessThanOrEqual(5);
    expect(Math.abs(q.haaPercent - truth.haaPercent), where).toBeLessThanOrEqual(1);
    expect(Math.abs(q.lungVolumeMl - truth.lungVolumeMl) / truth.lungVolumeMl, where).toBeLessThan(0.03);
  });
});

describe('the categories over both families', () => {
  it('are right on at least 90 % of the series', () => {
    expect(categories).toHaveLength(10);
    expect(categories.filter(Boolean).length / categories.length).toBeGreaterThanOrEqual(BOUND.categoryAccuracy);
  });
});

describe('scan physics measured on the scan', () => {
  it('finds the rendered PSF and noise, and the table is not lung', { timeout: 240_000 }, async () => {
    const { result } = await run('voronoi', 'normal');
    const s = result.scanPhysics!;
    // The edge-spread σ includes the pixel aperture (≈ pixel/√12) on top of the rendered PSF.
    const expectedPsf = Math.hypot(PHYSICS.psfSigmaMm, PHYSICS.pixelSpacingMm / Math.sqrt(12));
    expect(Math.abs(s.psfSigmaMm - expectedPsf) / expectedPsf).toBeLessThan(0.2);
    expect(Math.abs(s.noiseSdHu - PHYSICS.noiseHu) / PHYSICS.noiseHu).toBeLessThan(0.2);
    expect(Math.abs(s.airHu + 1000)).toBeLessThan(25);
    expect(result.quality.flags.join(' ')).toMatch(/flat slabs outside the lungs excluded \(patient table/);
    expect(s.edgeUndershoot).toBeLessThan(0.02); // a Gaussian PSF has none
  });

  it("measures a sharp kernel's undershoot, and keeps its ringing out of the cyst air", { timeout: 240_000 }, async () => {
    // (1 + a)·G(σ) − a·G(2.5 σ) with a = 0.6 dips 9 % of a step below the dark side (−0.6 Φ(−0.85) + 1.6 Φ(−2.13)).
    const dir = join(root, 'sharp-normal');
    await generateScannerPhantom({ dir, family: 'voronoi', pattern: 'normal', seed: SEED, ...PHYSICS, edgeEnhancement: 0.6, superSample: 2, subSliceMm: 0.5 });
    const result = await analyzeVolume(await assembleVolume(dir));
    await rm(dir, { recursive: true, force: true });
    expect(result.scanPhysics!.edgeUndershoot).toBeGreaterThan(0.05);
    expect(result.scanPhysics!.edgeUndershoot).toBeLessThan(0.13);
    expect(result.classification.category).toBe('no_fibrosis');
    expect(result.quantities.extents.honeycombing).toBeLessThan(0.5);
  });
});

describe('a soft kernel: PSF σ 1.2 mm', () => {
  // The chest wall's blurred edge reaches 2σ + the box into the lung, raised and steep: read as texture
  // it made 4 % of a normal lung reticulation and an emphysema series fibrosis (voronoi, seed 4). The
  // pleural rim is now left out of the window statistics.
  it.each<PhantomPattern>(['normal', 'emphysema'])('a voronoi %s lung is not fibrosis: reticulation and honeycombing under the fibrosis floor of 3 percent', { timeout: 240_000 }, async (pattern) => {
    const dir = join(root, `soft-${pattern}`);
    const { truth } = await generateScannerPhantom({ dir, family: 'voronoi', pattern, seed: SEED, ...PHYSICS, psfSigmaMm: 1.2, superSample: 2, subSliceMm: 0.5 });
    const result = await analyzeVolume(await assembleVolume(dir));
    await rm(dir, { recursive: true, force: true });
    const q = result.quantities;
    const where = `soft ${pattern}: ${JSON.stringify(q.extents)}; ${result.classification.rationale.join('; ')}`;
    expect(result.classification.category, where).toBe(truth.expectedCategory);
    expect(q.extents.reticulation + q.extents.honeycombing, where).toBeLessThan(3);
  });
});

describe('a soft kernel: ground glass with a few fine lines (NSIP)', () => {
  // A blurred line keeps more fine texture than its peak contrast (1/σ) says: the profile and the
  // neighbourhood both widen (line-response.ts). With the 1/σ rule NSIP's ground glass at σ 1.2 mm read
  // as 11–22 % reticulation and the series as probable UIP (seed 4, both families).
  it.each<ScannerFamily>(['fibre', 'voronoi'])('a %s NSIP series at PSF σ 1.2 mm stays an alternative diagnosis', { timeout: 240_000 }, async (family) => {
    const dir = join(root, `soft-nsip-${family}`);
    const { truth } = await generateScannerPhantom({ dir, family, pattern: 'nsip', seed: SEED, ...PHYSICS, psfSigmaMm: 1.2, superSample: 2, subSliceMm: 0.5 });
    const result = await analyzeVolume(await assembleVolume(dir));
    await rm(dir, { recursive: true, force: true });
    const q = result.quantities;
    const where = `soft nsip ${family}: ${JSON.stringify(q.extents)}; ${result.classification.rationale.join('; ')}`;
    expect(result.classification.category, where).toBe(truth.expectedCategory);
    expect(q.extents.reticulation, where).toBeLessThan(q.extents.groundGlass);
  });
});

describe('metamorphic checks', () => {
  it('a left–right flip and a +20 HU offset leave the category and extents (within 2 points)', { timeout: 240_000 }, async () => {
    const { volume, result } = await run('fibre', 'uip');
    const { width: w, height: h, depth: d } = volume;
    const flipped = new Int16Array(volume.hu.length);
    for (let z = 0; z < d; z++) for (let y = 0; y < h; y++) {
      const o = (z * h + y) * w;
      for (let x = 0; x < w; x++) flipped[o + x] = volume.hu[o + w - 1 - x]!;
    }
    const offset = volume.hu.map((v) => Math.min(32767, v + 20));
    for (const [name, hu] of [['flip', flipped], ['+20 HU', offset]] as const) {
      const other = await analyzeVolume({ ...volume, hu });
      expect(other.classification.category, name).toBe(result.classification.category);
      for (const c of CLASSES) expect(Math.abs(other.quantities.extents[c] - result.quantities.extents[c]), `${name} ${c}`).toBeLessThanOrEqual(2);
    }
  });
});
