/**
 * Retrieval figures for `ildflow bench` (docs/design.md §8: within 20% of curl downloading the same WADO-RS
 * series, within 50% of DCMTK getscu over C-GET, memory flat as the series grows). A private Orthanc holds
 * the bench's series and one twice as long; each ildflow retrieval is timed beside the raw tool on the same
 * data in the same run — curl for WADO-RS, getscu for C-GET and C-MOVE — best of three each, after one
 * warm-up. ildflow retrieves in a child process so its peak RSS is the retrieval's alone; the child
 * retrieves twice and times both: the first pays for loading and compiling the code (a fresh process), the
 * second is what a running retrieve worker does.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
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

export async function benchRetrieval(seriesDir: string, twiceDir?: string): Promise<void> {
  if (!isOrthancInstalled() || spawnSync('getscu', ['--version']).status !== 0 || spawnSync('curl', ['--version']).status !== 0) {
    console.log('retrieval: skipped (needs Orthanc, DCMTK getscu and curl: see .ci/run)');
    return;
  }
  const dcm = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.dcm')).map((f) => join(dir, f));
  const files = await dcm(seriesDir);
  const twiceFiles = twiceDir ? await dcm(twiceDir) : [];
  const scpPort = await freePort();
  const orthanc = await startOrthanc({ modalities: { ILDFLOW: ['ILDFLOW', '127.0.0.1', scpPort] } });
  const work = await mkdtemp(join(tmpdir(), 'ildflow-bench-retr-'));
  try {
    const t0 = performance.now();
    orthanc.storescu([...files, ...twiceFiles]);
    console.log(`retrieval: ${files.length + twiceFiles.length} instances stored in Orthanc in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    const bySize = new Map<number, { studyUid: string; seriesUid: string }>();
    for (const id of (await (await orthanc.rest('/series')).json()) as string[]) {
      const info = (await (await orthanc.rest(`/series/${id}`)).json()) as { Instances: string[]; MainDicomTags: { SeriesInstanceUID: string }; ParentStudy: string };
      const study = (await (await orthanc.rest(`/studies/${info.ParentStudy}`)).json()) as { MainDicomTags: { StudyInstanceUID: string } };
      bySize.set(info.Instances.length, { studyUid: study.MainDicomTags.StudyInstanceUID, seriesUid: info.MainDicomTags.SeriesInstanceUID });
    }
    const one = bySize.get(files.length)!;

    let n = 0;
    const fresh = async () => {
      const d = join(work, `r${n++}`);
      await mkdir(d);
      return d;
    };
    const curl = async () => ({ ms: curlSeries(orthanc.dicomWebUrl, one.studyUid, one.seriesUid, join(await fresh(), 'series.multipart')) });
    const getscu = async () => {
      const out = await fresh();
      const t = performance.now();
      const r = spawnSync(
        'getscu',
        ['-aet', 'ILDFLOW', '-aec', 'ORTHANC', '-S', '-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${one.studyUid}`, '-k', `SeriesInstanceUID=${one.seriesUid}`, '-od', out, '127.0.0.1', String(orthanc.dicomPort)],
        { env: { ...process.env, TCP_NODELAY: '1' } },
      );
      if (r.status !== 0) throw new Error(`getscu failed: ${String(r.stderr)}`);
      return { ms: performance.now() - t };
    };
    const ildflow = (url: string, auth?: string, series = one) => async () => retrieveInChild(url, auth, series.studyUid, series.seriesUid, await fresh());
    const dimseUrl = (retrieve: 'c-get' | 'c-move') => `dicom://ORTHANC@127.0.0.1:${orthanc.dicomPort}?retrieve=${retrieve}&calling=ILDFLOW&port=${scpPort}`;
    const mb = (await dirSize(seriesDir)) / 1e6;

    await curl(); // warm-up: Orthanc's storage cache and the page cache
    const runs = {
      curl: await best(curl),
      dicomweb: await best(ildflow(orthanc.dicomWebUrl, orthanc.auth)),
      getscu: await best(getscu),
      cget: await best(ildflow(dimseUrl('c-get'))),
      cmove: await best(ildflow(dimseUrl('c-move'))),
    };
    const idle = idleRss();
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const rate = (ms: number) => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
    const stage = (name: string, r: Run, base: number, baseName: string, target?: number) =>
      console.log(
        `retrieval, ildflow ${name}: ${s(r.warmMs!)} = ${rate(r.warmMs!)} = ${ratio(r.warmMs!, base)}× ${baseName}` +
          (target ? ` (target ≤ ${target}×): ${verdict(r.warmMs! <= target * base)}` : '') +
          `; first retrieval of a fresh process ${s(r.ms)} = ${ratio(r.ms, base)}× ${baseName}`,
      );
    console.log(`retrieval: series ${files.length} slices, ${mb.toFixed(0)} MB; best of ${ROUNDS} after a warm-up; the machine is shared (2 cores, other work running), so compare within a run`);
    console.log(`retrieval, raw WADO-RS (curl): ${s(runs.curl.ms)} = ${rate(runs.curl.ms)}`);
    stage('DICOMweb (WADO-RS, streamed to files, verified)', runs.dicomweb, runs.curl.ms, 'curl', 1.2);
    console.log(`retrieval, raw C-GET (getscu): ${s(runs.getscu.ms)} = ${rate(runs.getscu.ms)}`);
    stage('C-GET (dcmjs-dimse, own PDU framing, verified)', runs.cget, runs.getscu.ms, 'getscu', 1.5);
    stage('C-MOVE (to its own C-STORE SCP, verified)', runs.cmove, runs.getscu.ms, 'getscu');
    console.log(`retrieval, C-MOVE / C-GET (ildflow, running worker): ${ratio(runs.cmove.warmMs!, runs.cget.warmMs!)}`);
    const mib = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
    console.log(
      `retrieval, worker peak RSS (${files.length} slices): DICOMweb ${mib(runs.dicomweb.rss!)}, C-GET ${mib(runs.cget.rss!)}, C-MOVE ${mib(runs.cmove.rss!)} ` +
        `(an idle node process: ${mib(idle)}; the series: ${mb.toFixed(0)} MB)`,
    );
    const twice = bySize.get(twiceFiles.length);
    if (!twice || !twiceFiles.length) return;
    // Memory only: one child each (the peak does not depend on the luck of the timing).
    const big = {
      dicomweb: await ildflow(orthanc.dicomWebUrl, orthanc.auth, twice)(),
      cget: await ildflow(dimseUrl('c-get'), undefined, twice)(),
      cmove: await ildflow(dimseUrl('c-move'), undefined, twice)(),
    };
    const grow = (k: keyof typeof big) => `${k === 'dicomweb' ? 'DICOMweb' : k === 'cget' ? 'C-GET' : 'C-MOVE'} ${mib(big[k].rss!)} = ${ratio(big[k].rss!, runs[k].rss!)}×`;
    const flat = (['dicomweb', 'cget', 'cmove'] as const).every((k) => big[k].rss! <= 1.2 * runs[k].rss!);
    console.log(
      `retrieval, worker peak RSS (${twiceFiles.length} slices, ${((await dirSize(twiceDir!)) / 1e6).toFixed(0)} MB): ${grow('dicomweb')}, ${grow('cget')}, ${grow('cmove')} the ${files.length}-slice peak ` +
        `(target ≤ 1.2×): ${verdict(flat)}`,
    );
  } finally {
    await orthanc.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** `ms`: the first retrieval in a fresh process; `warmMs`: the second, in the same process (a running worker). */
type Run = { ms: number; warmMs?: number; rss?: number };

async function best(run: () => Promise<Run>): Promise<Run> {
  // Fastest times; highest peak memory (the memory figure is a ceiling, not a best case).
  let ms = Infinity;
  let warmMs = Infinity;
  let rss = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const r = await run();
    ms = Math.min(ms, r.ms);
    warmMs = Math.min(warmMs, r.warmMs ?? Infinity);
    rss = Math.max(rss, r.rss ?? 0);
  }
  return { ms, warmMs, rss };
}

/**
 * Retrieval in a child node process (what a retrieve worker does), twice, each timed inside it. Peak memory
 * is the child's VmHWM (Linux): getrusage's maxRSS would include the parent's RSS folded in at exec.
 */
function retrieveInChild(url: string, auth: string | undefined, study: string, series: string, out: string): Run {
  const mod = new URL('../../shared/pacs/create-source.js', import.meta.url).href;
  const script = `
    const { mkdirSync, readFileSync } = await import('node:fs');
    const { createImageSource } = await import(${JSON.stringify(mod)});
    const s = createImageSource(${JSON.stringify(url)}, { auth: ${JSON.stringify(auth ?? null)} ?? undefined });
    const times = [];
    for (const d of ['first', 'second']) {
      const dir = ${JSON.stringify(out)} + '/' + d;
      mkdirSync(dir);
      const t = performance.now();
      await s.retrieveSeries(${JSON.stringify(study)}, ${JSON.stringify(series)}, dir, new AbortController().signal);
      times.push(performance.now() - t);
    }
    await s.close?.();
    const hwm = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    console.log(JSON.stringify({ ms: times[0], warmMs: times[1], rss: Number(hwm[1]) * 1024 }));`;
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
  let n = 0;
  for (const f of await readdir(dir)) if (f.endsWith('.dcm')) n += (await stat(join(dir, f))).size;
  return n;
}
