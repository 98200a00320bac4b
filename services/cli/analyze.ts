/**
 * `ildflow analyze DIR [--json] [--threads N] [--profile] [--seg FILE]`: runs the reference engine on a
 * folder of one series, no Redis. Threads: --threads, else ILDFLOW_ENGINE_THREADS, else every core.
 * --profile prints each stage's wall time on stderr as it ends. --seg writes the label map as a DICOM SEG
 * (what the analyze worker always asks for; docs/design.md §5 "Label maps"). Compressed files are decoded
 * into a private temporary copy (shared/dicom/decode-instance.ts, the decoder the sources use); DIR is
 * only read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodedSeries } from '../../shared/dicom/decode-instance.js';
import { checkSeriesForEngine } from '../../shared/engines/check-series.js';
import { REFERENCE_DESCRIPTOR, analyzeSeriesDir } from '../../shared/engines/reference/index.js';
import { options } from './main.js';

export async function analyzeCommand(args: string[]): Promise<number> {
  const { values, positionals } = options(args, { json: { type: 'boolean', default: false }, threads: { type: 'string' }, profile: { type: 'boolean', default: false }, seg: { type: 'string' } });
  const dir = positionals[0];
  if (!dir) throw new Error('usage: ildflow analyze DIR [--json] [--threads N] [--profile] [--seg FILE]');
  const threads = engineThreadsOption(values.threads ?? process.env.ILDFLOW_ENGINE_THREADS);
  const work = await mkdtemp(join(tmpdir(), 'ildflow-analyze-'));
  try {
    return await analyzeDir(dir, work, { json: values.json, threads, profile: values.profile, ...(values.seg ? { seg: values.seg } : {}) });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function analyzeDir(original: string, work: string, values: Readonly<{ json: boolean; threads: number; profile: boolean; seg?: string }>): Promise<number> {
  const { dir, refused } = await decodedSeries(original, work);
  const check = await checkSeriesForEngine(dir, REFERENCE_DESCRIPTOR.requirements);
  // A file the decoder refused is a reason, as the reader's refusals are (check-series.ts).
  check.reasons.unshift(...refused.map((r) => `unusable image: ${r.file}: ${r.reason}`));
  if (check.reasons.length) {
    const out = { eligible: false, reasons: check.reasons };
    console.log(values.json ? JSON.stringify(out, null, 2) : `not eligible:\n  - ${check.reasons.join('\n  - ')}`);
    return 3;
  }
  if (!values.json) process.stderr.write(`analysing ${check.summary?.sliceCount} slices…\n`);
  const result = await analyzeSeriesDir(dir, {}, { threads: values.threads, ...(values.profile ? { onStage: stageTimer() } : {}), ...(values.seg ? { labelMapPath: values.seg } : {}) });
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    const q = result.quantities;
    console.log(`category: ${result.classification.category}`);
    for (const r of result.classification.rationale) console.log(`  - ${r}`);
    console.log(`lung volume ${q.lungVolumeMl} mL, mean ${q.meanLungDensityHu} HU, HAA ${q.haaPercent}%, LAA-950 ${q.laa950Percent}%`);
    console.log(`extents (% of lung): ${Object.entries(q.extents).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(`took ${(result.timings.durationMs / 1000).toFixed(2)} s`);
  }
  return 0;
}

/** Prints each stage's wall time (since the previous stage ended) on stderr. */
function stageTimer(): (stage: string) => void {
  let last = performance.now();
  return (stage) => {
    const now = performance.now();
    process.stderr.write(`${((now - last) / 1000).toFixed(2).padStart(7)} s  ${stage}\n`);
    last = now;
  };
}

/** The thread count as ILDFLOW_ENGINE_THREADS reads it (config.ts): an integer 0–64, 0 = every core. */
function engineThreadsOption(v: string | undefined): number {
  if (v === undefined || v === '') return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new Error(`--threads / ILDFLOW_ENGINE_THREADS: an integer from 0 (every core) to 64, not "${v}"`);
  return n;
}
