/**
 * One case of the validation sweep, run as its own process by main.ts (so each volume's memory is freed
 * when the case ends): generate the series unless the cache holds it, assemble it, analyse it, compare
 * with the ground truth, optionally run the metamorphic checks. child.ts is the process around it.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { REFERENCE_DESCRIPTOR, analyzeVolume, type AnalysisResult } from '../../shared/engines/reference/index.js';
import { checkRequirements } from '../../shared/engines/requirements.js';
import { assembleVolume, type Volume } from '../../shared/volume/assemble-volume.js';
import { generateScannerPhantom } from '../phantom/scanner/generate-scanner-phantom.js';
import type { ScannerPhantomTruth } from '../phantom/scanner/types.js';
import type { CaseSpec } from './cases.js';
import { EXTENT_KEYS, METAMORPHIC_TOLERANCE_PP, RESAMPLE_FACTOR, errorsOf, type MetamorphicCheck, type MetamorphicTransform, type Row } from './summarize.js';

const COMPLETE = '.complete';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Generates the series into the cache unless it is already complete there. @returns ms, or null if cached. */
export async function ensureSeries(c: CaseSpec): Promise<number | null> {
  if (existsSync(`${c.seriesDir}/${COMPLETE}`)) return null;
  const t0 = performance.now();
  const partial = `${c.seriesDir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await generateScannerPhantom({
    dir: partial, family: c.family, pattern: c.pattern, seed: c.seed,
    pixelSpacingMm: c.physics.pixelSpacingMm, sliceThicknessMm: c.physics.sliceThicknessMm, sliceSpacingMm: c.physics.sliceSpacingMm,
    psfSigmaMm: c.physics.psfSigmaMm, noiseHu: c.physics.noiseHu, edgeEnhancement: c.physics.edgeEnhancement, superSample: c.render.superSample, subSliceMm: c.render.subSliceMm,
    ...(c.render.lungScale !== undefined ? { lungScale: c.render.lungScale } : {}), ...(c.matrix ? { matrix: c.matrix } : {}),
  });
  await writeFile(`${partial}/${COMPLETE}`, `${new Date().toISOString()}\n`);
  await rm(c.seriesDir, { recursive: true, force: true });
  await rename(partial, c.seriesDir);
  return performance.now() - t0;
}

const quantitiesOf = (r: AnalysisResult): NonNullable<Row['engine']> => ({
  extents: { ...r.quantities.extents }, haaPercent: r.quantities.haaPercent, laa950Percent: r.quantities.laa950Percent, lungVolumeMl: r.quantities.lungVolumeMl,
});

/** The volume mirrored left–right (columns reversed), geometry otherwise unchanged. */
export function flipColumns(v: Volume, hu: Int16Array): Volume {
  const out = new Int16Array(hu.length);
  const w = v.width;
  for (let row = 0; row < v.height * v.depth; row++) {
    const o = row * w;
    for (let x = 0; x < w; x++) out[o + x] = hu[o + w - 1 - x]!;
  }
  return { ...v, hu: out };
}

/**
 * The volume resampled in-plane to pixels `factor` times larger (bilinear, about the image centre), as a
 * reconstruction on a larger field of view would give; slices unchanged.
 */
export function resampleInPlane(v: Volume, hu: Int16Array, factor: number): Volume {
  const w2 = Math.floor(v.width / factor), h2 = Math.floor(v.height / factor);
  const out = new Int16Array(w2 * h2 * v.depth);
  const cx = (v.width - 1) / 2, cy = (v.height - 1) / 2, cx2 = (w2 - 1) / 2, cy2 = (h2 - 1) / 2;
  for (let z = 0; z < v.depth; z++) {
    const src = z * v.width * v.height, dst = z * w2 * h2;
    for (let y = 0; y < h2; y++) {
      const sy = Math.min(v.height - 1.001, Math.max(0, cy + (y - cy2) * factor));
      const y0 = Math.floor(sy), fy = sy - y0;
      for (let x = 0; x < w2; x++) {
        const sx = Math.min(v.width - 1.001, Math.max(0, cx + (x - cx2) * factor));
        const x0 = Math.floor(sx), fx = sx - x0;
        const i = src + y0 * v.width + x0;
        const top = hu[i]! * (1 - fx) + hu[i + 1]! * fx, bottom = hu[i + v.width]! * (1 - fx) + hu[i + v.width + 1]! * fx;
        out[dst + y * w2 + x] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  const [px, py] = v.pixelSpacingMm;
  return { ...v, width: w2, height: h2, hu: out, pixelSpacingMm: [px * factor, py * factor] as typeof v.pixelSpacingMm };
}

/** The volume with `delta` HU added everywhere (as a changed RescaleIntercept would), clamped to int16. */
export function offsetHu(v: Volume, hu: Int16Array, delta: number): Volume {
  const out = new Int16Array(hu.length);
  for (let i = 0; i < hu.length; i++) out[i] = Math.max(-32768, Math.min(32767, hu[i]! + delta));
  return { ...v, hu: out };
}

export function compareMetamorphic(transform: MetamorphicTransform, base: AnalysisResult, other: AnalysisResult): MetamorphicCheck {
  let max = 0;
  let cls: MetamorphicCheck['maxExtentChangeClass'] = null;
  for (const k of EXTENT_KEYS) {
    const d = Math.abs(other.quantities.extents[k] - base.quantities.extents[k]);
    if (d > max || cls === null) [max, cls] = [d, k];
  }
  const categoryUnchanged = other.classification.category === base.classification.category;
  return {
    transform, category: other.classification.category, categoryUnchanged,
    maxExtentChange: Math.round(max * 100) / 100, maxExtentChangeClass: cls,
    ok: categoryUnchanged && max <= METAMORPHIC_TOLERANCE_PP,
  };
}

export async function runCase(c: CaseSpec): Promise<Row> {
  const generateMs = await ensureSeries(c);
  const truth = JSON.parse(await readFile(`${c.seriesDir}/ground-truth.json`, 'utf8')) as ScannerPhantomTruth;
  const t0 = performance.now();
  const volume = await assembleVolume(c.seriesDir);
  const readMs = performance.now() - t0;
  const reasons = checkRequirements(volume.summary, REFERENCE_DESCRIPTOR.requirements);
  // The untouched voxels, kept only when the transforms need them (the engine gets its own copy each time).
  const pristine = c.metamorphic ? volume.hu.slice() : null;
  const row: Row = {
    id: c.id, family: c.family, pattern: c.pattern, seed: c.seed, physics: c.physics, axes: c.axes,
    expected: truth.expectedCategory, found: null, ok: false, eligible: reasons.length === 0, reasons,
    errors: null,
    truth: { extents: truth.extents, haaPercent: truth.haaPercent, laa950Percent: truth.laa950Percent, lungVolumeMl: truth.lungVolumeMl },
    engine: null, engineMs: 0, readMs: Math.round(readMs), generateMs: generateMs === null ? null : Math.round(generateMs),
    size: truth.size,
  };
  let result: AnalysisResult;
  const t1 = performance.now();
  try {
    result = await analyzeVolume(volume, { threads: c.threads });
  } catch (err) {
    row.engineMs = Math.round(performance.now() - t1);
    row.error = message(err);
    return row;
  }
  row.engineMs = Math.round(performance.now() - t1);
  row.found = result.classification.category;
  row.ok = row.found === row.expected;
  row.engine = quantitiesOf(result);
  row.errors = errorsOf(row.engine, row.truth);
  if (pristine) {
    row.metamorphic = [];
    const transforms: [MetamorphicTransform, () => Volume][] = [
      ['flip-lr', () => flipColumns(volume, pristine)],
      ['hu+20', () => offsetHu(volume, pristine, 20)],
      ['hu-20', () => offsetHu(volume, pristine, -20)],
      ['resample', () => resampleInPlane(volume, pristine, RESAMPLE_FACTOR)],
    ];
    for (const [name, make] of transforms) {
      try {
        row.metamorphic.push(compareMetamorphic(name, result, await analyzeVolume(make(), { threads: c.threads })));
      } catch (err) {
        row.metamorphic.push({ transform: name, category: null, categoryUnchanged: false, maxExtentChange: NaN, maxExtentChangeClass: null, ok: false, error: message(err) });
      }
    }
  }
  return row;
}
