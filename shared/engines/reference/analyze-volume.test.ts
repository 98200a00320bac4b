/**
 * The engine on the legacy phantom (shared/phantom) at an eligible resolution (0.94 mm pixels, 2.5 mm
 * slices): pure tissue values plus noise, no PSF. Engine 1.0 was not tuned on it; it must still pass. Its
 * `probable_uip` drawing has no traction bronchiectasis, which the 2018 guideline requires for probable
 * UIP, so engine 1.0 answers `indeterminate` for it and says why.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineResult } from '../contract.js';
import { assembleVolume } from '../../volume/assemble-volume.js';
import { generatePhantom, type PhantomPattern } from '../../phantom/generate-phantom.js';
import { analyzeVolume } from './analyze-volume.js';
import { categorize, type Facts } from './categorize.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-engine-'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

async function run(pattern: PhantomPattern, seed: number) {
  const dir = join(root, `${pattern}-${seed}`);
  const { groundTruth } = await generatePhantom({ dir, pattern, seed, rows: 384, columns: 384, slices: 130, sliceThicknessMm: 2.5, pixelSpacingMm: 360 / 384, shuffleInstanceNumbers: true });
  const result = await analyzeVolume(await assembleVolume(dir));
  return { dir, truth: groundTruth, result };
}

describe('a series without lungs the engine can find', () => {
  it('is answered as not acceptable, with the reason, instead of failing inside the summary', { timeout: 60_000 }, async () => {
    // 96 mm across at 1 mm: the legacy phantom's lungs are a few mL; before, summarize threw
    // "Cannot read properties of undefined (reading 'fibrosis')" while picking key images.
    const dir = join(root, 'tiny');
    await generatePhantom({ dir, pattern: 'uip', seed: 1, rows: 96, columns: 96, slices: 60, sliceThicknessMm: 1 });
    const result = await analyzeVolume(await assembleVolume(dir));
    expect(result.quality.acceptable).toBe(false);
    expect(result.quality.flags.join('\n')).toMatch(/lungs not found or very small/);
    expect(result.keyImages).toEqual([]);
  });
});

describe('analyzeVolume on the legacy phantom', () => {
  it.each<[PhantomPattern, string]>([
    ['uip', 'uip'],
    ['normal', 'no_fibrosis'],
    ['probable_uip', 'indeterminate'],
    ['nsip', 'alternative_diagnosis'],
    ['emphysema', 'no_fibrosis'],
  ])('classifies the %s phantom as %s with extents and densities near the truth', { timeout: 60_000 }, async (pattern, category) => {
    const { truth, result } = await run(pattern, 21);

    expect(result.classification.category).toBe(category);
    const q = result.quantities;
    for (const k of ['normal', 'groundGlass', 'reticulation', 'honeycombing', 'emphysema', 'consolidation'] as const) {
      expect(Math.abs(q.extents[k] - truth.extents[k]), k).toBeLessThanOrEqual(5);
    }
    expect(Math.abs(q.laa950Percent - truth.laa950Percent)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(q.haaPercent - truth.haaPercent)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(q.lungVolumeMl - truth.lungVolumeMl) / truth.lungVolumeMl).toBeLessThan(0.03);
    const parsed = EngineResult.parse({ ...result, timings: { startedAt: '2024-01-01T00:00:00.000Z', finishedAt: '2024-01-01T00:00:01.000Z', durationMs: 1000 } });
    expect(parsed.keyImages).toHaveLength(3);
    // The scan's own physics is measured and reported: outside air, soft tissue, noise.
    expect(Math.abs(parsed.scanPhysics!.airHu + 1000)).toBeLessThan(15);
    expect(Math.abs(parsed.scanPhysics!.tissueHu - 45)).toBeLessThan(20);
    expect(parsed.scanPhysics!.noiseSdHu).toBeGreaterThan(10);
    if (pattern === 'probable_uip') expect(result.classification.rationale.join(' ')).toMatch(/traction bronchiectasis not seen/);
  });

  it('is deterministic, and byte-identical on one thread or several (class map included)', { timeout: 90_000 }, async () => {
    const a = await run('uip', 33);
    const volume = await assembleVolume(a.dir);
    const oneMap = new Uint8Array(volume.hu.length), threeMap = new Uint8Array(volume.hu.length);
    const stages: string[] = [];
    const one = await analyzeVolume(volume, { threads: 1, classMap: oneMap, onStage: (s) => stages.push(s) });
    const three = await analyzeVolume(volume, { threads: 3, classMap: threeMap });
    expect(one).toEqual(a.result);
    expect(JSON.stringify(three)).toBe(JSON.stringify(one));
    expect(oneMap.some((c) => c === 4)).toBe(true); // the map was written (honeycombing = class 3, stored + 1)
    expect(Buffer.compare(threeMap, oneMap)).toBe(0);
    // `ildflow analyze --profile` times these: each stage once, in the order it runs.
    expect(stages).toEqual([
      'outside air and body', 'scan physics', 'lungs: candidate air components', 'lungs: cysts and dense lung', 'lungs: airways',
      'lungs: closing and surface', 'denoise', 'parenchyma, air holes and their shapes', 'classify',
    ]);
    expect(a.result.classification.rationale.join(' ')).toMatch(/honeycombing: \d+(\.\d)?% of lung, \d+% subpleural/);
    expect(a.result.keyImages.find((k) => k.zone === 'lower')!.reason).toMatch(/most fibrosis in the lower zone/);
  });
});

describe('categorize', () => {
  const base: Facts = {
    fibrosisPercent: 12, ggo: 1, honeycombing: 3, hcSubFraction: 0.9, hcDeepFraction: 0.3, secondLayerMm: 6, cystDiameterMm: 5, tractionMl: 1,
    upper: 2, middle: 6, lower: 25, subpleuralFraction: 0.85, shellPct: 30, innerPct: 20, emphysema: 0, laa950: 0,
  };
  it.each<[string, Partial<Facts>, string]>([
    ['subpleural basal fibrosis with honeycombing', {}, 'uip'],
    ['honeycombing in a single layer is still honeycombing', { hcDeepFraction: 0 }, 'uip'],
    ['no honeycombing, traction bronchiectasis seen', { honeycombing: 0.1 }, 'probable_uip'],
    ['no honeycombing, no traction bronchiectasis', { honeycombing: 0.1, tractionMl: 0 }, 'indeterminate'],
    ['little fibrosis', { fibrosisPercent: 1, ggo: 2 }, 'no_fibrosis'],
    ['ground-glass predominant', { ggo: 20 }, 'alternative_diagnosis'],
    ['upper-zone predominant', { upper: 30, lower: 10 }, 'alternative_diagnosis'],
    ['subpleural sparing', { shellPct: 5, innerPct: 30 }, 'alternative_diagnosis'],
    ['basal but central', { subpleuralFraction: 0.3 }, 'indeterminate'],
    ['diffuse cranio-caudally', { upper: 20, middle: 24, lower: 25 }, 'indeterminate'],
  ])('%s → %s', (_name, change, category) => {
    expect(categorize({ ...base, ...change }).category).toBe(category);
  });
  it('names the criterion it did not see instead of claiming it', () => {
    const r = categorize({ ...base, honeycombing: 0, tractionMl: 0 });
    expect(r.rationale.at(-1)).toMatch(/traction bronchiectasis not seen.*requires for probable UIP/);
  });
});
