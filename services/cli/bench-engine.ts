/**
 * The reference engine's figures for `ildflow bench` (docs/design.md §8; issue #4) on one series, beside two
 * baselines measured in the same run: a sum over an int16 array the size of the volume (the machine's
 * memory speed, now), and the pydicom + numpy script a research group would write instead
 * (../shared/bench/numpy_baseline.py, outside the repository; it does less — histogram metrics only —
 * so it is a floor for the engine's time).
 *
 * Both are measured the way a user meets them: whole-process wall time of a fresh process, start-up,
 * imports, reading the files and the JIT warming up included — `ildflow analyze DIR --json` and
 * `/usr/bin/python3 numpy_baseline.py DIR` — median of three runs each, alternating, so drift in a noisy
 * shared machine hits both. The engine process reports its own peak resident memory through a tiny
 * `--import` hook (Node has no rusage of children).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSeriesForEngine } from '../../shared/engines/check-series.js';
import { REFERENCE_DESCRIPTOR } from '../../shared/engines/reference/index.js';

/** Runs of each process; the median time and the largest memory are reported. */
const RUNS = 3;
export const NUMPY_BASELINE_ENV = 'ILDFLOW_BENCH_NUMPY_BASELINE';
const PYTHON = '/usr/bin/python3';

/** Prints the process's RSS at start and its peak at exit on stderr, for the bench to read. */
const RSS_HOOK =
  'data:text/javascript,' +
  encodeURIComponent(
    'const s=process.memoryUsage().rss;process.on("exit",()=>process.stderr.write(`\\n@@bench-rss ${s} ${process.resourceUsage().maxRSS*1024}\\n`));',
  );

export type BenchEngineOptions = {
  /** Path given on the command line (`--numpy-baseline`); else the environment, else the default. */
  numpyBaseline?: string;
};

/** The repository root: the nearest folder above this module with ildflow's package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ildflow') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** Where the numpy baseline is: `--numpy-baseline`, $ILDFLOW_BENCH_NUMPY_BASELINE, or ../shared/bench/numpy_baseline.py. */
export function numpyBaselinePath(o: BenchEngineOptions, env: NodeJS.ProcessEnv = process.env): { path: string; explicit: boolean } {
  if (o.numpyBaseline) return { path: resolve(o.numpyBaseline), explicit: true };
  if (env[NUMPY_BASELINE_ENV]) return { path: resolve(env[NUMPY_BASELINE_ENV]), explicit: true };
  return { path: resolve(repoRoot(), '../shared/bench/numpy_baseline.py'), explicit: false };
}

type Run = { ms: number; stdout: string; stderr: string; status: number | null };

function timed(cmd: string, args: string[]): Run {
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - t;
  if (r.error) throw r.error;
  return { ms, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mb = (b: number): string => `${(b / 1e6).toFixed(0)} MB`;

export async function benchEngine(dir: string, o: BenchEngineOptions = {}): Promise<void> {
  const check = await checkSeriesForEngine(dir, REFERENCE_DESCRIPTOR.requirements);
  if (!check.summary) throw new Error(`bench: no series in ${dir}`);
  if (check.reasons.length) throw new Error(`bench: the series does not meet the engine's requirements: ${check.reasons.join('; ')}`);
  const { rows, columns, sliceCount } = check.summary;
  const voxels = rows * columns * sliceCount;
  const volumeBytes = voxels * 2;
  const dims = `${columns}×${rows}×${sliceCount}`;

  const baselineMs = sumPassMs(voxels);
  console.log(`engine baseline: one pass summing ${mb(volumeBytes)} of int16 = ${baselineMs.toFixed(0)} ms (this machine, now)`);

  const numpy = numpyBaselinePath(o);
  const haveNumpy = existsSync(numpy.path) && existsSync(PYTHON);
  if (!haveNumpy) {
    const why = !existsSync(numpy.path) ? `${numpy.path} not found` : `${PYTHON} not found`;
    console.log(`numpy baseline: skipped (${why}; set --numpy-baseline PATH or ${NUMPY_BASELINE_ENV}); no ratio`);
  }

  // `ildflow analyze` as a fresh process: the CLI entry beside this module (dist/…/entry.js when built,
  // as bin/ildflow.js loads it; entry.ts under tsx, whose loader flags are passed on).
  const entry = fileURLToPath(new URL(`./entry${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
  const engineArgs = [...process.execArgv, '--import', RSS_HOOK, entry, 'analyze', dir, '--json'];
  const engine: { ms: number; durationMs: number; rssStart: number; maxRss: number; category: string }[] = [];
  const py: { ms: number; out: { voxels: number; haaPercent: number; laa950Percent: number } }[] = [];
  for (let r = 0; r < RUNS; r++) {
    const e = timed(process.execPath, engineArgs);
    if (e.status !== 0) throw new Error(`ildflow analyze failed (exit ${e.status}): ${e.stderr.trim().slice(-2000)}`);
    const rss = /@@bench-rss (\d+) (\d+)/.exec(e.stderr);
    const res = JSON.parse(e.stdout) as { classification: { category: string }; timings: { durationMs: number } };
    engine.push({ ms: e.ms, durationMs: res.timings.durationMs, rssStart: Number(rss?.[1] ?? NaN), maxRss: Number(rss?.[2] ?? NaN), category: res.classification.category });
    if (haveNumpy) {
      const p = timed(PYTHON, [numpy.path, dir]);
      if (p.status !== 0) throw new Error(`numpy baseline failed (exit ${p.status}): ${p.stderr.trim().slice(-2000)}`);
      py.push({ ms: p.ms, out: JSON.parse(p.stdout.trim().split('\n').pop()!) as (typeof py)[number]['out'] });
    }
  }
  const engineMs = median(engine.map((e) => e.ms));
  const inProcessMs = median(engine.map((e) => e.durationMs));
  const peakRss = Math.max(...engine.map((e) => e.maxRss));
  const peakAbove = Math.max(...engine.map((e) => e.maxRss - e.rssStart));
  console.log(`reference engine on ${dims} (${dir}; median of ${RUNS} fresh processes${haveNumpy ? ', alternating with the numpy baseline' : ''}; category ${engine[0]!.category}):`);
  console.log(
    `  ildflow analyze --json:  ${secs(engineMs)} wall (whole process) = ${(engineMs / baselineMs).toFixed(0)}× baseline; ` +
      `assemble + analysis inside it ${secs(inProcessMs)}, ${(voxels / (inProcessMs / 1000) / 1e6).toFixed(1)} Mvoxel/s`,
  );
  if (haveNumpy) {
    const numpyMs = median(py.map((p) => p.ms));
    const ratio = engineMs / numpyMs;
    console.log(`  numpy baseline:          ${secs(numpyMs)} wall (whole process; ${PYTHON} ${numpy.path}; ${py[0]!.out.voxels} lung voxels, HAA ${py[0]!.out.haaPercent.toFixed(1)}%)`);
    console.log(`  engine / numpy:          ${ratio.toFixed(2)} (target ≤ 1.0): ${ratio <= 1 ? 'MET' : 'NOT MET'}`);
  }
  console.log(
    `  peak memory:             ${mb(peakRss)} resident; ${mb(peakAbove)} above the bare node process = ${(peakAbove / volumeBytes).toFixed(2)}× ` +
      `the volume's ${mb(volumeBytes)} (target < 3×): ${peakAbove < 3 * volumeBytes ? 'MET' : 'NOT MET'}`,
  );
}

/** The machine's baseline: the fastest of three sums over an int16 array the size of the volume. */
function sumPassMs(voxels: number): number {
  const a = new Int16Array(voxels);
  for (let i = 0; i < voxels; i += 4096) a[i] = i & 0x7fff;
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    let s = 0;
    for (let i = 0; i < voxels; i++) s += a[i]!;
    sink += s;
    best = Math.min(best, performance.now() - t);
  }
  if (sink === 42) console.log(''); // keeps the loop from being optimised away
  return best;
}
