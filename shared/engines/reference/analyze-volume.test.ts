import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineResult } from '../contract.js';
import { assembleVolume } from '../../volume/assemble-volume.js';
import { generatePhantom, type PhantomPattern } from '../../phantom/generate-phantom.js';
import { analyzeVolume, categorize } from './analyze-volume.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-engine-'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

/** Small phantoms (128×128×80, 2.5 mm pixels): coarser than the requirements allow, but analyzeVolume
 *  does not enforce them, and the classes must still be found. */
async function run(pattern: PhantomPattern, seed: number) {
  const dir = join(root, pattern);
  const { groundTruth } = await generatePhantom({ dir, pattern, seed, rows: 128, columns: 128, slices: 80, sliceThicknessMm: 2, pixelSpacingMm: 2.5, shuffleInstanceNumbers: true });
  const result = analyzeVolume(await assembleVolume(dir));
  return { truth: groundTruth, result };
}

/** Extents within this many percentage points of the painted truth. */
const TOLERANCE_POINTS = 4;

describe('analyzeVolume on phantoms', () => {
  it.each<[PhantomPattern, string]>([
    ['uip', 'uip'],
    ['normal', 'no_fibrosis'],
    ['probable_uip', 'probable_uip'],
    ['nsip', 'alternative_diagnosis'],
    ['emphysema', 'no_fibrosis'],
  ])('classifies the %s phantom as %s with extents near the truth', async (pattern, category) => {
    const { truth, result } = await run(pattern, 21);
    expect(truth.expectedCategory).toBe(category);
    expect(result.classification.category).toBe(category);
    const q = result.quantities;
    for (const k of ['groundGlass', 'reticulation', 'honeycombing', 'emphysema', 'consolidation'] as const) {
      expect(Math.abs(q.extents[k] - truth.extents[k]), k).toBeLessThanOrEqual(TOLERANCE_POINTS);
    }
    for (const z of ['upper', 'middle', 'lower'] as const) {
      expect(Math.abs(q.zones[z].fibrosisPercent - truth.zones[z].fibrosisPercent), z).toBeLessThanOrEqual(2 * TOLERANCE_POINTS);
    }
    expect(Math.abs(q.laa950Percent - truth.laa950Percent)).toBeLessThanOrEqual(1);
    expect(Math.abs(q.haaPercent - truth.haaPercent)).toBeLessThanOrEqual(TOLERANCE_POINTS);
    expect(Math.abs(q.lungVolumeMl - truth.lungVolumeMl) / truth.lungVolumeMl).toBeLessThan(0.05);
    expect(Math.abs(q.meanLungDensityHu - truth.meanLungDensityHu)).toBeLessThan(25);
    // The engine's answer is a valid ildflow.engine-result/1 once timed.
    const parsed = EngineResult.parse({ ...result, timings: { startedAt: '2024-01-01T00:00:00.000Z', finishedAt: '2024-01-01T00:00:01.000Z', durationMs: 1000 } });
    expect(parsed.keyImages).toHaveLength(3);
    expect(parsed.classification.rationale.length).toBeGreaterThan(1);
    expect(result.quality.flags).toContain('requirement not met: pixel spacing 2.5 mm > 1 mm allowed');
  });

  it('is deterministic and names the honeycombing facts behind a uip call', async () => {
    const a = await run('uip', 33);
    const b = analyzeVolume(await assembleVolume(join(root, 'uip')));
    expect(b).toEqual(a.result);
    expect(a.result.classification.rationale.join(' ')).toMatch(/honeycombing \d+(\.\d)?% of lung, \d+% subpleural/);
    expect(a.result.quantities.subpleuralFibrosisFraction).toBeGreaterThan(0.8);
    expect(a.result.keyImages.find((k) => k.zone === 'lower')!.reason).toMatch(/most fibrosis in the lower zone/);
  });
});

describe('categorize', () => {
  const base = { fibrosisPercent: 12, ggo: 1, honeycombing: 3, hcSubFraction: 0.9, upper: 2, middle: 6, lower: 25, subpleuralFraction: 0.85, shellPct: 30, innerPct: 20, emphysema: 0, laa950: 0 };
  it.each<[string, Partial<typeof base>, string]>([
    ['subpleural basal fibrosis with honeycombing', {}, 'uip'],
    ['no honeycombing', { honeycombing: 0.1 }, 'probable_uip'],
    ['little fibrosis', { fibrosisPercent: 1, ggo: 2 }, 'no_fibrosis'],
    ['ground-glass predominant', { ggo: 20 }, 'alternative_diagnosis'],
    ['upper-zone predominant', { upper: 30, lower: 10 }, 'alternative_diagnosis'],
    ['subpleural sparing', { shellPct: 5, innerPct: 30 }, 'alternative_diagnosis'],
    ['basal but central', { subpleuralFraction: 0.3 }, 'indeterminate'],
    ['diffuse cranio-caudally', { upper: 20, middle: 24, lower: 25 }, 'indeterminate'],
  ])('%s → %s', (_name, change, category) => {
    expect(categorize({ ...base, ...change }).category).toBe(category);
  });
});
