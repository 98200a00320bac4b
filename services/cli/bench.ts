/**
 * `ildflow bench`: benchmark figures (docs/design.md §8), each printed beside a baseline measured in the same
 * run, since the machines are shared and noisy. The engine section runs on the scanner phantom
 * (tools/phantom/scanner: fibre, UIP, default physics, 512×512×298), or on `--series DIR`; retrieval
 * and the flow sections use the legacy phantom, as before. `--only engine,retrieval,flow,lifecycle,viewer` picks sections (`--lifecycle-cases N`, 200 by default;
 * the viewer's slice latency on a `--size`² series of `--viewer-slices` slices, 120 by default).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEngine } from './bench-engine.js';
import { benchFlow } from './bench-flow.js';
import { benchRetrieval } from './bench-retrieval.js';
import { options } from './main.js';

const SECTIONS = ['engine', 'retrieval', 'flow', 'lifecycle', 'viewer'] as const;
type Section = (typeof SECTIONS)[number];

/** The engine's bench series: this seed's patient gives 298 slices of 1 mm (buildModel's depth map). */
const ENGINE_PHANTOM = { family: 'fibre', pattern: 'uip', seed: 8, pixelSpacingMm: 0.7, superSample: 2, subSliceMm: 0.5 } as const;

export async function benchCommand(args: string[]): Promise<number> {
  const { values } = options(args, {
    size: { type: 'string', default: '512' },
    slices: { type: 'string', default: '300' },
    series: { type: 'string' },
    'numpy-baseline': { type: 'string' },
    only: { type: 'string' },
    'lifecycle-cases': { type: 'string', default: '200' },
    'viewer-slices': { type: 'string', default: '120' },
  });
  const size = Number(values.size);
  const slices = Number(values.slices);
  const only = (values.only?.split(',') ?? [...SECTIONS]) as Section[];
  for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section "${s}" (${SECTIONS.join(', ')})`);
  const dir = await mkdtemp(join(tmpdir(), 'ildflow-bench-'));
  try {
    console.log(`# ildflow bench — node ${process.version}, ${new Date().toISOString()}`);
    if (only.includes('engine')) {
      // The reference engine (issue #4): bench-engine.ts, on the scanner phantom unless a series is given.
      const engineDir = values.series ? resolve(values.series) : await scannerPhantom(join(dir, 'scanner'), size);
      await benchEngine(engineDir, values['numpy-baseline'] ? { numpyBaseline: values['numpy-baseline'] } : {});
    }
    if (only.includes('retrieval') || only.includes('flow')) {
      // The phantom is written by a child process so its memory does not count in this process's peak.
      const legacy = join(dir, 'legacy');
      const cli = fileURLToPath(new URL('../../../bin/ildflow.js', import.meta.url));
      const t0 = performance.now();
      const gen = spawnSync(process.execPath, [cli, 'phantom', '--out', legacy, '--pattern', 'uip', '--size', String(size), '--slices', String(slices), '--thickness', '1'], {
        encoding: 'utf8',
      });
      if (gen.status !== 0) throw new Error(`phantom generation failed: ${gen.stderr}`);
      console.log(`phantom ${size}×${size}×${slices} written in ${secs(t0)} s`);
      // Retrieval of the same 300-slice series from a private Orthanc, beside curl and getscu (issue #3);
      // a series twice as long beside it, another seed so other UIDs, for the memory figure (issue 13: peak RSS
      // flat as the series grows).
      if (only.includes('retrieval')) {
        const twice = join(dir, 'legacy-twice');
        const t1 = performance.now();
        const gen2 = spawnSync(process.execPath, [cli, 'phantom', '--out', twice, '--pattern', 'uip', '--seed', '2', '--size', String(size), '--slices', String(2 * slices), '--thickness', '1'], { encoding: 'utf8' });
        if (gen2.status !== 0) throw new Error(`phantom generation failed: ${gen2.stderr}`);
        console.log(`phantom ${size}×${size}×${2 * slices} written in ${secs(t1)} s`);
        await benchRetrieval(legacy, twice);
      }
      // End to end through Orthanc, throughput of 50 cases, the review queue under load (issue #7): bench-flow.ts.
      if (only.includes('flow')) await benchFlow(legacy, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    }
    // What each finished case leaves on disk and in Redis, over 200 cases signed and billed (issue 17).
    if (only.includes('lifecycle'))
      await (await import('./bench-lifecycle.js')).benchLifecycle(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', Number(values['lifecycle-cases']));
    // The review viewer's slice change beside /healthz (issue 12): bench-viewer.ts.
    if (only.includes('viewer'))
      await (await import('./bench-viewer.js')).benchViewer(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { size, slices: Number(values['viewer-slices']) });
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes the engine's bench series (scanner phantom, `size`² matrix over the same 358 mm field). */
async function scannerPhantom(out: string, size: number): Promise<string> {
  const { generateScannerPhantom } = await import('../../tools/phantom/scanner/generate-scanner-phantom.js');
  const t0 = performance.now();
  let shown = 0;
  const r = await generateScannerPhantom({
    dir: out, ...ENGINE_PHANTOM, matrix: size, pixelSpacingMm: (ENGINE_PHANTOM.pixelSpacingMm * 512) / size,
    onProgress: (done, total) => {
      const tenth = Math.floor((done / total) * 10);
      if (tenth > shown && process.stderr.isTTY) {
        shown = tenth;
        process.stderr.write(`  scanner phantom: ${tenth * 10}%${tenth === 10 ? '\r\x1b[K' : '\r'}`);
      }
    },
  });
  const s = r.truth.size;
  console.log(`scanner phantom (${ENGINE_PHANTOM.family} ${ENGINE_PHANTOM.pattern}, seed ${ENGINE_PHANTOM.seed}) ${s.columns}×${s.rows}×${s.slices} written in ${secs(t0)} s`);
  return out;
}

const secs = (since: number) => ((performance.now() - since) / 1000).toFixed(2);
