/**
 * Retrieval figures for `ildflow bench` (docs/design.md §8: within 20% of a raw download of the same WADO-RS
 * series). A private Orthanc holds the bench's series; each ildflow retrieval is timed beside the raw tool
 * on the same data in the same run — curl for WADO-RS, DCMTK getscu for C-GET — best of three each, after
 * one warm-up. ildflow retrieves in a child process so its peak RSS is the retrieval's alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isOrthancInstalled, ORTHANC_PASSWORD, ORTHANC_USER, startOrthanc } from '../../shared/pacs/orthanc-process.js';

const ROUNDS = 3;
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/**
 * The raw baseline: curl downloading the series by WADO-RS into one file (PS3.18 §10.4), uncompressed,
 * with `Expect:` cleared (curl otherwise waits 1 s for a 100-continue). Returns milliseconds.
 */
export function curlSeries(dicomWebUrl: string, studyUid: string, seriesUid: string, outFile: string): number {
  const t = performance.now();
  const r = spawnSync('curl', [
    '-sS', '--fail', '-o', outFile, '-u', `${ORTHANC_USER}:${ORTHANC_PASSWORD}`, '-H', 'Expect:',
    '-H', `Accept: multipart/related; type="application/dicom"; transfer-syntax=${EXPLICIT_LE}`,
    `${dicomWebUrl}/studies/${studyUid}/series/${seriesUid}`,
  ]);
  if (r.status !== 0) throw new Error(`curl failed: ${String(r.stderr)}`);
  return performance.now() - t;
}

export async function benchRetrieval(seriesDir: string): Promise<void> {
  if (!isOrthancInstalled() || spawnSync('getscu', ['--version']).status !== 0 || spawnSync('curl', ['--version']).status !== 0) {
    console.log('retrieval: skipped (needs Orthanc, DCMTK getscu and curl: see .ci/run)');
    return;
  }
  const files = (await readdir(seriesDir)).filter((f) => f.endsWith('.dcm')).map((f) => join(seriesDir, f));
  const scpPort = await freePort();
  const orthanc = await startOrthanc({ modalities: { ILDFLOW: ['ILDFLOW', '127.0.0.1', scpPort] } });
  const work = await mkdtemp(join(tmpdir(), 'ildflow-bench-retr-'));
  try {
    const t0 = performance.now();
    orthanc.storescu(files);
    console.log(`retrieval: ${files.length} instances stored in Orthanc in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    const series = (await (await orthanc.rest('/series')).json()) as string[];
    const info = (await (await orthanc.rest(`/series/${series[0]}`)).json()) as { MainDicomTags: { SeriesInstanceUID: string }; ParentStudy: string };
    const study = (await (await orthanc.rest(`/studies/${info.ParentStudy}`)).json()) as { MainDicomTags: { StudyInstanceUID: string } };
    const studyUid = study.MainDicomTags.StudyInstanceUID;
    const seriesUid = info.MainDicomTags.SeriesInstanceUID;

    let n = 0;
    const fresh = async () => {
      const d = join(work, `r${n++}`);
      await import('node:fs/promises').then((fs) => fs.mkdir(d));
      return d;
    };
    const curl = async () => ({ ms: curlSeries(orthanc.dicomWebUrl, studyUid, seriesUid, join(await fresh(), 'series.multipart')) });
    const getscu = async () => {
      const out = await fresh();
      const t = performance.now();
      const r = spawnSync(
        'getscu',
        ['-aet', 'ILDFLOW', '-aec', 'ORTHANC', '-S', '-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${studyUid}`, '-k', `SeriesInstanceUID=${seriesUid}`, '-od', out, '127.0.0.1', String(orthanc.dicomPort)],
        { env: { ...process.env, TCP_NODELAY: '1' } },
      );
      if (r.status !== 0) throw new Error(`getscu failed: ${String(r.stderr)}`);
      return { ms: performance.now() - t };
    };
    const ildflow = (url: string, auth?: string) => async () => {
      const out = await fresh();
      return retrieveInChild(url, auth, studyUid, seriesUid, out);
    };
    const dimseUrl = `dicom://ORTHANC@127.0.0.1:${orthanc.dicomPort}?retrieve=c-get&calling=ILDFLOW`;
    const mb = (await dirSize(seriesDir)) / 1e6;

    await curl(); // warm-up: Orthanc's storage cache and the page cache
    const runs = {
      curl: await best(curl),
      dicomweb: await best(ildflow(orthanc.dicomWebUrl, orthanc.auth)),
      getscu: await best(getscu),
      cget: await best(ildflow(dimseUrl)),
    };
    const idle = idleRss();
    const rate = (ms: number) => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
    console.log(`retrieval: series ${files.length} slices, ${mb.toFixed(0)} MB; best of ${ROUNDS} after a warm-up`);
    console.log(`retrieval, raw WADO-RS (curl): ${(runs.curl.ms / 1000).toFixed(2)} s = ${rate(runs.curl.ms)}`);
    console.log(
      `retrieval, ildflow DICOMweb (WADO-RS, streamed to files, verified): ${(runs.dicomweb.ms / 1000).toFixed(2)} s = ${rate(runs.dicomweb.ms)} = ` +
        `${(runs.dicomweb.ms / runs.curl.ms).toFixed(2)}× curl (target ≤ 1.2×): ${runs.dicomweb.ms <= 1.2 * runs.curl.ms ? 'MET' : 'NOT MET'}`,
    );
    console.log(`retrieval, raw C-GET (getscu): ${(runs.getscu.ms / 1000).toFixed(2)} s = ${rate(runs.getscu.ms)}`);
    console.log(`retrieval, ildflow C-GET (dcmjs-dimse): ${(runs.cget.ms / 1000).toFixed(2)} s = ${rate(runs.cget.ms)} = ${(runs.cget.ms / runs.getscu.ms).toFixed(2)}× getscu`);
    console.log(
      `retrieval, worker peak RSS: DICOMweb ${(runs.dicomweb.rss! / 1e6).toFixed(0)} MB, C-GET ${(runs.cget.rss! / 1e6).toFixed(0)} MB ` +
        `(an idle node process: ${(idle / 1e6).toFixed(0)} MB; the series: ${mb.toFixed(0)} MB)`,
    );
  } finally {
    await orthanc.close();
    await rm(work, { recursive: true, force: true });
  }
}

type Run = { ms: number; rss?: number };

async function best(run: () => Promise<Run>): Promise<Run> {
  // Fastest time; highest peak memory (the memory figure is a ceiling, not a best case).
  let ms = Infinity;
  let rss = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const r = await run();
    ms = Math.min(ms, r.ms);
    rss = Math.max(rss, r.rss ?? 0);
  }
  return { ms, rss };
}

/**
 * Retrieval in a child node process (what a retrieve worker does), timed inside it. Peak memory is the
 * child's VmHWM (Linux): getrusage's maxRSS would include the parent's RSS folded in at exec.
 */
function retrieveInChild(url: string, auth: string | undefined, study: string, series: string, out: string): Run {
  const mod = new URL('../../shared/pacs/create-source.js', import.meta.url).href;
  const script = `
    const { createImageSource } = await import(${JSON.stringify(mod)});
    const s = createImageSource(${JSON.stringify(url)}, { auth: ${JSON.stringify(auth ?? null)} ?? undefined });
    const t = performance.now();
    const r = await s.retrieveSeries(${JSON.stringify(study)}, ${JSON.stringify(series)}, ${JSON.stringify(out)}, new AbortController().signal);
    const ms = performance.now() - t;
    await s.close?.();
    const hwm = /VmHWM:\\s+(\\d+) kB/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'));
    console.log(JSON.stringify({ ms, files: r.files, rss: Number(hwm[1]) * 1024 }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ildflow retrieval failed: ${r.stderr}`);
  const line = r.stdout.trim().split('\n').at(-1)!;
  return JSON.parse(line) as Run;
}

function idleRss(): number {
  const r = spawnSync(process.execPath, ['-e', "console.log(Number(/VmHWM:\\s+(\\d+) kB/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) * 1024)"], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

async function dirSize(dir: string): Promise<number> {
  const { stat } = await import('node:fs/promises');
  let n = 0;
  for (const f of await readdir(dir)) if (f.endsWith('.dcm')) n += (await stat(join(dir, f))).size;
  return n;
}
