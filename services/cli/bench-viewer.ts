/**
 * The review viewer's slice latency for `ildflow bench --only viewer` (docs/design.md §8: "the review viewer
 * changes slice in under 100 ms"), beside GET /healthz measured by the same client against the same process
 * in the same run. A 512×512 phantom series with a label map from its truth (tools/phantom/truth-label-map.ts)
 * is put in review as the workers would leave it; the API runs as its own process (`ildflow start --role
 * api`, as deployed). One slice change is what the page does: the slice's HU and its labels fetched together,
 * bodies read, then windowed and coloured (viewer-render.js, the page's own code, timed here in Node; the
 * canvas's putImageData is not). 100 distinct slices in a shuffled order (no read-ahead helps), from a cold
 * server cache, then the same again warm.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hashToken, newToken } from '../../shared/auth/users.js';
import type { Case } from '../../shared/domain/case.js';
import { mulberry32 } from '../../shared/phantom/generate-phantom.js';
import { connectRedis } from '../../shared/redis.js';
import { REPORT_ARTIFACTS } from '../../shared/reports/report-refs.js';
import { phantomWithTruthLabelMap } from '../../tools/phantom/truth-label-map.js';
import { VIEWER_CLASSES } from '../api/cases/viewer.js';
import { PRESETS, palette, renderSlice, windowLut } from '../review-ui/public/viewer-render.js';
import { deletePrefix, freePortOf, seedCases, stopProcess, waitForHttp } from './bench-api.js';

const TARGET_MS = 100;

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const ms = (v: number) => v.toFixed(1);

/** A case in review on `seriesDir` with a stored label map: what the analyze and report workers leave. */
function reviewCase(t: Awaited<ReturnType<typeof phantomWithTruthLabelMap>>, seriesDir: string): Case {
  const now = new Date().toISOString();
  const g = t.phantom.groundTruth;
  return {
    id: 'template', status: 'awaiting_review', version: 5, createdAt: now, updatedAt: now, attempt: 1,
    order: { id: 'ORD-VIEWER-BENCH', orderedAt: now, priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
    patient: { id: 'MRN-VIEWER-BENCH', name: 'BENCH^VIEWER', birthDate: '1950-01-01', sex: 'F' },
    coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
    advisories: [],
    source: {
      studyInstanceUid: t.phantom.studyInstanceUid, seriesInstanceUid: t.phantom.seriesInstanceUid, modality: 'CT', sliceCount: g.size.slices,
      sliceThicknessMm: g.sliceThicknessMm, selection: { chosen: 'bench', rejected: [] }, retrievedAt: now, seriesDir,
    },
    labelMap: { status: 'stored', sopInstanceUid: t.sopInstanceUid, segments: t.segments },
    artifacts: [],
  } as unknown as Case; // the fields the viewer reads; the engine result is not needed to scroll
}

export async function benchViewer(redisUrl: string, opts: { size?: number; slices?: number; requests?: number } = {}): Promise<void> {
  const size = opts.size ?? 512;
  const slices = opts.slices ?? 120;
  const requests = Math.min(opts.requests ?? 100, slices);
  const prefix = `bench-viewer-${Math.random().toString(36).slice(2, 10)}`;
  const work = await mkdtemp(join(tmpdir(), 'ildflow-bench-viewer-'));
  const redis = connectRedis(redisUrl, { name: prefix });
  let api: ChildProcess | null = null;
  try {
    const t0 = performance.now();
    const seriesDir = join(work, 'series');
    const truth = await phantomWithTruthLabelMap({ dir: seriesDir, pattern: 'uip', seed: 21, rows: size, columns: size, slices, sliceThicknessMm: 1.25 }, join(work, 'seg.dcm'));
    const [id] = await seedCases(redis, prefix, reviewCase(truth, seriesDir), { total: 1, inReview: 1 });
    const artifacts = join(work, 'data', 'cases', id!, 'artifacts');
    await mkdir(artifacts, { recursive: true });
    await copyFile(join(work, 'seg.dcm'), join(artifacts, REPORT_ARTIFACTS.labelMap));
    console.log(`viewer: phantom ${size}×${size}×${slices} with its truth SEG written and put in review in ${((performance.now() - t0) / 1000).toFixed(2)} s`);

    const token = newToken();
    await writeFile(join(work, 'users.json'), JSON.stringify([{ id: 'u-rad-bench', name: 'Bench Reader, MD', roles: ['radiologist'], npi: '1234567893', tokenSha256: hashToken(token) }]));
    const port = await freePortOf();
    api = spawn(process.execPath, [fileURLToPath(new URL('../../../bin/ildflow.js', import.meta.url)), 'start', '--role', 'api'], {
      env: {
        PATH: process.env.PATH ?? '', REDIS_URL: redisUrl, ILDFLOW_REDIS_PREFIX: prefix, ILDFLOW_PORT: String(port), ILDFLOW_DATA_DIR: join(work, 'data'),
        ILDFLOW_PACS: pathToFileURL(join(work, 'pacs')).href, ILDFLOW_USERS_FILE: join(work, 'users.json'), ILDFLOW_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    api.stderr!.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`, api, () => stderr);
    const auth = { authorization: `Bearer ${token}` };
    const get = async (path: string, headers: Record<string, string> = auth): Promise<ArrayBuffer> => {
      const res = await fetch(base + path, { headers });
      const body = await res.arrayBuffer();
      if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${Buffer.from(body).toString().slice(0, 300)}`);
      return body;
    };

    for (let i = 0; i < 50; i++) await get('/healthz', {}); // JIT and the connection pool
    const tv = performance.now();
    const viewer = JSON.parse(Buffer.from(await get(`/v1/cases/${id}/viewer`)).toString()) as { series: { sliceCount: number } };
    const openMs = performance.now() - tv;
    if (viewer.series?.sliceCount !== slices) throw new Error(`the viewer sees ${viewer.series?.sliceCount} slices, not ${slices}`);

    const rand = mulberry32(7);
    const order = Array.from({ length: slices }, (_, z) => z).sort(() => rand() - 0.5).slice(0, requests);
    const lut = windowLut(PRESETS.lung.width, PRESETS.lung.level);
    const pal = palette(VIEWER_CLASSES);
    const rgba = new Uint8ClampedArray(size * size * 4);
    const pass = async () => {
      const fetchMs: number[] = [];
      const totalMs: number[] = [];
      for (const z of order) {
        const t = performance.now();
        const [hu, labels] = await Promise.all([get(`/v1/cases/${id}/slices/${z}`), get(`/v1/cases/${id}/slices/${z}/labels`)]);
        const fetched = performance.now();
        renderSlice(rgba, new Int16Array(hu), new Uint8Array(labels), lut, pal, 0.45);
        fetchMs.push(fetched - t);
        totalMs.push(performance.now() - t);
      }
      return { fetchMs, totalMs };
    };
    const cold = await pass();
    const warm = await pass();
    const health: number[] = [];
    for (let i = 0; i < requests; i++) {
      const t = performance.now();
      await get('/healthz', {});
      health.push(performance.now() - t);
    }
    const line = (name: string, xs: number[]) => `${name} p50 ${ms(quantile(xs, 0.5))} ms, p95 ${ms(quantile(xs, 0.95))} ms`;
    console.log(`viewer: GET /v1/cases/{id}/viewer (index ${slices} headers + SEG class counts, cold) ${ms(openMs)} ms`);
    console.log(`viewer, baseline GET /healthz ×${requests} (same client, same process): ${line('', health)}`);
    console.log(`viewer, slice change ×${requests} distinct slices of ${size}×${size}, cold server cache: fetch (HU + labels)${line('', cold.fetchMs)}; fetch + draw${line('', cold.totalMs)}`);
    console.log(`viewer, the same slices again, warm server cache: fetch${line('', warm.fetchMs)}; fetch + draw${line('', warm.totalMs)}`);
    const p95 = quantile(cold.totalMs, 0.95);
    console.log(
      `viewer, slice change p95 (cold): ${ms(p95)} ms = ${(p95 / Math.max(quantile(health, 0.95), 0.01)).toFixed(1)}× /healthz p95 ` +
        `(target under ${TARGET_MS} ms): ${p95 < TARGET_MS ? 'MET' : 'NOT MET'}`,
    );
  } finally {
    if (api) await stopProcess(api);
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await rm(work, { recursive: true, force: true });
  }
}
