/**
 * `ildflow bench`: benchmark figures (DESIGN.md §8), each printed beside a baseline measured in the same
 * run, since the machines are shared and noisy. This build measures the reference engine; the retrieval,
 * end-to-end, throughput and API figures come with the PACS and hardening issues (#3, #7).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeVolume } from '../../shared/engines/reference/index.js';
import { assembleVolume } from '../../shared/volume/assemble-volume.js';
import { options } from './main.js';

export async function benchCommand(args: string[]): Promise<number> {
  const { values } = options(args, { size: { type: 'string', default: '512' }, slices: { type: 'string', default: '300' } });
  const size = Number(values.size);
  const slices = Number(values.slices);
  const dir = await mkdtemp(join(tmpdir(), 'ildflow-bench-'));
  try {
    console.log(`# ildflow bench — node ${process.version}, ${new Date().toISOString()}`);
    // The phantom is written by a child process so its memory does not count in this process's peak.
    const cli = fileURLToPath(new URL('../../../bin/ildflow.js', import.meta.url));
    const t0 = performance.now();
    const gen = spawnSync(process.execPath, [cli, 'phantom', '--out', dir, '--pattern', 'uip', '--size', String(size), '--slices', String(slices), '--thickness', '1'], {
      encoding: 'utf8',
    });
    if (gen.status !== 0) throw new Error(`phantom generation failed: ${gen.stderr}`);
    console.log(`phantom ${size}×${size}×${slices} written in ${secs(t0)} s`);

    const voxels = size * size * slices;
    const volumeBytes = voxels * 2;
    const baselineMs = memoryPassMs(voxels);
    const rssBefore = process.resourceUsage().maxRSS * 1024;

    const t1 = performance.now();
    const volume = await assembleVolume(dir);
    const readMs = performance.now() - t1;
    const t2 = performance.now();
    const result = analyzeVolume(volume);
    const analyzeMs = performance.now() - t2;
    const peak = process.resourceUsage().maxRSS * 1024 - rssBefore;

    const totalMs = readMs + analyzeMs;
    console.log(`baseline: one pass over ${(volumeBytes / 1e6).toFixed(0)} MB of int16 (sum) = ${baselineMs.toFixed(1)} ms`);
    console.log(`reference engine, read + assemble volume: ${(readMs / 1000).toFixed(2)} s`);
    console.log(
      `reference engine, analysis: ${(analyzeMs / 1000).toFixed(2)} s = ${(analyzeMs / baselineMs).toFixed(0)}× baseline; ` +
        `${(voxels / (analyzeMs / 1000) / 1e6).toFixed(1)} Mvoxel/s; category ${result.classification.category}`,
    );
    console.log(`reference engine, total: ${(totalMs / 1000).toFixed(2)} s (target < 2 s on one core): ${totalMs < 2000 ? 'MET' : 'NOT MET'}`);
    console.log(
      `reference engine, peak memory above start: ${(peak / 1e6).toFixed(0)} MB = ${(peak / volumeBytes).toFixed(2)}× the volume's ${(volumeBytes / 1e6).toFixed(0)} MB ` +
        `(target < 3×): ${peak < 3 * volumeBytes ? 'MET' : 'NOT MET'}`,
    );
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The machine's baseline: the fastest of three sums over an int16 array the size of the volume. */
function memoryPassMs(voxels: number): number {
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

const secs = (since: number) => ((performance.now() - since) / 1000).toFixed(2);
