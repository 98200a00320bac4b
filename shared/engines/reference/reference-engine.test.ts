import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidDicom, NotEligible } from '../../errors.js';
import { EngineResult } from '../contract.js';
import { generatePhantom, type PhantomResult } from '../../phantom/generate-phantom.js';
import { analyzeSeriesDir, createReferenceEngine } from './reference-engine.js';
import { scanSeriesDir } from '../../dicom/read-instance.js';
import { readSegHeader } from '../../dicom/seg/read-seg.js';
import { checkLabelMap } from '../label-map-check.js';

let root: string;
let eligible: PhantomResult;
let coarse: PhantomResult;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-ref-'));
  // The smallest series the requirements accept: 1 mm pixels, 50 slices × 3 mm = 150 mm.
  eligible = await generatePhantom({ dir: join(root, 'eligible'), pattern: 'uip', seed: 4, rows: 224, columns: 224, pixelSpacingMm: 1, slices: 50, sliceThicknessMm: 3 });
  coarse = await generatePhantom({ dir: join(root, 'coarse'), seed: 4, rows: 64, columns: 64, pixelSpacingMm: 5, slices: 20, sliceThicknessMm: 5 });
}, 30_000);
afterAll(async () => rm(root, { recursive: true, force: true }));

const input = (p: PhantomResult, dir: string) => ({ seriesDir: join(root, dir), studyInstanceUid: p.studyInstanceUid, seriesInstanceUid: p.seriesInstanceUid });

describe('reference engine', () => {
  it('analyses on a worker thread and returns a validated result equal to the in-process one', async () => {
    const engine = createReferenceEngine();
    expect(engine.descriptor.id).toBe('reference');
    const viaThread = await engine.analyze(input(eligible, 'eligible'), new AbortController().signal);
    expect(EngineResult.parse(viaThread)).toEqual(viaThread);
    expect(viaThread.input.seriesInstanceUid).toBe(eligible.seriesInstanceUid);
    expect(viaThread.quantities.lungVolumeMl).toBeGreaterThan(0);
    const inProcess = await analyzeSeriesDir(join(root, 'eligible'), { seriesInstanceUid: eligible.seriesInstanceUid });
    const { timings: _a, ...restThread } = viaThread;
    const { timings: _b, ...restLocal } = inProcess;
    expect(restThread).toEqual(restLocal);
  });

  it('writes its label map as a DICOM SEG that fits the series, one segment per class it found', async () => {
    const labelMapPath = join(root, 'label-map.dcm');
    const r = await createReferenceEngine().analyze({ ...input(eligible, 'eligible'), labelMapPath }, new AbortController().signal);
    const seg = await readSegHeader(labelMapPath);
    const fit = checkLabelMap(seg, (await scanSeriesDir(join(root, 'eligible'))).instances.map((i) => i.header));
    expect(fit.ok).toBe(true);
    const keys = fit.ok ? fit.segments.map((x) => x.key) : [];
    expect(keys).toContain('normal');
    // A class the result reports a share of lung for is in the map (the map is what the result counted).
    for (const [key, pct] of Object.entries(r.quantities.extents)) if (pct >= 0.1) expect(keys).toContain(key);
  });

  it('keeps the event loop free while the thread works', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await createReferenceEngine().analyze(input(eligible, 'eligible'), new AbortController().signal);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
  });

  it('rejects an ineligible series with the reasons, across the thread boundary', async () => {
    const err = await createReferenceEngine().analyze(input(coarse, 'coarse'), new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotEligible);
    expect((err as NotEligible).reasons).toEqual([
      'slice thickness 5 mm > 3 mm allowed',
      '20 slices < 50 required',
      '20 slices cover 100 mm < 150 mm required',
      'pixel spacing 5 mm > 1 mm allowed',
    ]);
  });

  it('refuses a folder holding another series than requested', async () => {
    await expect(analyzeSeriesDir(join(root, 'coarse'), { seriesInstanceUid: eligible.seriesInstanceUid })).rejects.toBeInstanceOf(InvalidDicom);
  });

  it('stops the thread when aborted', async () => {
    const ac = new AbortController();
    const pending = createReferenceEngine().analyze(input(eligible, 'eligible'), ac.signal);
    ac.abort(new Error('job cancelled'));
    await expect(pending).rejects.toThrow('job cancelled');
  });
});
