/**
 * The reference engine's figures for `ildflow bench` (DESIGN.md §8; issue #4): seconds, voxels per second
 * and peak memory on a phantom series, beside a baseline measured in the same run. Each measurement runs
 * in a fresh child process, so the peak resident memory is the engine's own (volume, masks, scratch) and
 * not the bench's or the phantom generator's; the time includes the JIT warming up, as a real analysis
 * on a worker thread does.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { analyzeVolume } from '../../shared/engines/reference/index.js';
import { assembleVolume } from '../../shared/volume/assemble-volume.js';

/** Runs of the engine; the median time and the largest memory are reported. */
const RUNS = 3;

type ChildFigures = { readMs: number; analyzeMs: number; rssStart: number; maxRss: number; category: string };

export async function benchEngine(dir: string, dims: { size: number; slices: number }): Promise<void> {
  const voxels = dims.size * dims.size * dims.slices;
  const volumeBytes = voxels * 2;
  const baselineMs = sumPassMs(voxels);
  const self = fileURLToPath(import.meta.url);
  const runs: ChildFigures[] = [];
  for (let r = 0; r < RUNS; r++) {
    const child = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(import.meta.url)}); await m.engineChild(${JSON.stringify(dir)});`],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (child.status !== 0) throw new Error(`engine run failed (${self}): ${child.stderr}`);
    runs.push(JSON.parse(child.stdout.trim().split('\n').pop()!) as ChildFigures);
  }
  const byTotal = [...runs].sort((a, b) => a.readMs + a.analyzeMs - (b.readMs + b.analyzeMs));
  const med = byTotal[Math.floor(RUNS / 2)]!;
  const peak = Math.max(...runs.map((r) => r.maxRss - r.rssStart));
  const totalMs = med.readMs + med.analyzeMs;
  const mb = (b: number): string => `${(b / 1e6).toFixed(0)} MB`;
  console.log(`engine baseline: one pass summing ${mb(volumeBytes)} of int16 = ${baselineMs.toFixed(0)} ms (this machine, now)`);
  console.log(`reference engine on ${dims.size}×${dims.size}×${dims.slices} (median of ${RUNS} fresh processes; category ${med.category}):`);
  console.log(`  read + assemble volume: ${(med.readMs / 1000).toFixed(2)} s = ${(med.readMs / baselineMs).toFixed(0)}× baseline`);
  console.log(
    `  analysis:               ${(med.analyzeMs / 1000).toFixed(2)} s = ${(med.analyzeMs / baselineMs).toFixed(0)}× baseline; ` +
      `${(voxels / (med.analyzeMs / 1000) / 1e6).toFixed(1)} Mvoxel/s`,
  );
  console.log(
    `  total:                  ${(totalMs / 1000).toFixed(2)} s = ${(totalMs / baselineMs).toFixed(0)}× baseline; ${(voxels / (totalMs / 1000) / 1e6).toFixed(1)} Mvoxel/s ` +
      `(target < 2 s on one core): ${totalMs < 2000 ? 'MET' : 'NOT MET'}`,
  );
  console.log(
    `  peak memory:            ${mb(peak)} above the process's start = ${(peak / volumeBytes).toFixed(2)}× the volume's ${mb(volumeBytes)} ` +
      `(target < 3×): ${peak < 3 * volumeBytes ? 'MET' : 'NOT MET'}`,
  );
}

/** The child's side: read and analyse once, print the figures as one JSON line. */
export async function engineChild(dir: string): Promise<void> {
  const rssStart = process.memoryUsage().rss;
  const t0 = performance.now();
  const volume = await assembleVolume(dir);
  const t1 = performance.now();
  const result = analyzeVolume(volume);
  const t2 = performance.now();
  const figures: ChildFigures = { readMs: t1 - t0, analyzeMs: t2 - t1, rssStart, maxRss: process.resourceUsage().maxRSS * 1024, category: result.classification.category };
  console.log(JSON.stringify(figures));
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
