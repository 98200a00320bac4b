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
import { benchEngine } from './bench-engine.js';
import { benchFlow } from './bench-flow.js';
import { benchRetrieval } from './bench-retrieval.js';
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

    // The reference engine (issue #4): bench-engine.ts.
    await benchEngine(dir, { size, slices });
    // Retrieval of the same 300-slice series from a private Orthanc, beside curl and getscu (issue #3).
    await benchRetrieval(dir);
    // End to end through Orthanc, throughput of 50 cases, the review queue under load (issue #7): bench-flow.ts.
    await benchFlow(dir, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const secs = (since: number) => ((performance.now() - since) / 1000).toFixed(2);
