/**
 * `npm run validate`: the reference engine's validation sweep on the scanner phantom
 * (tools/phantom/scanner). One factor at a time around a nominal point (PSF σ, noise, slice thickness,
 * pixel size) × patterns × seeds × families; every case is generated and analysed in its own child
 * process (child.ts), at most `--jobs` at a time. Writes results.json (every row), summary.md and
 * error-curves.png into `--out` (default docs/validation/).
 *
 *   node --import tsx tools/validate/main.ts [--quick] [--families fibre,voronoi] [--patterns uip,nsip]
 *     [--seeds 2,3] [--axes psf,noise,thickness,pixel,kernel] [--metamorphic] [--jobs N] [--out DIR]
 *     [--cache DIR] [--keep] [--lung-scale S] [--super-sample N] [--sub-slice MM]
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Category } from '../../shared/engines/contract.js';
import type { PhantomPattern } from '../../shared/phantom/generate-phantom.js';
import type { ScannerFamily } from '../phantom/scanner/types.js';
import { AXIS_VALUES, NOMINAL, QUICK_AXIS_VALUES, buildCases, physicsLabel, type CaseSpec, type Plan } from './cases.js';
import { errorCurvesPng } from './plot.js';
import { AXES, METAMORPHIC_TOLERANCE_PP, RESAMPLE_FACTOR, summarize, summaryMarkdown, type Axis, type Row } from './summarize.js';

const FAMILIES: readonly ScannerFamily[] = ['fibre', 'voronoi'];
const PATTERNS: readonly PhantomPattern[] = ['normal', 'uip', 'probable_uip', 'nsip', 'emphysema'];
/** The phantom's expected categories (tools/phantom/scanner/truth.ts), for rows whose process died before reading the truth. */
const EXPECTED: Readonly<Record<PhantomPattern, Category>> = {
  normal: 'no_fibrosis', uip: 'uip', probable_uip: 'probable_uip', nsip: 'alternative_diagnosis', emphysema: 'no_fibrosis',
};

const USAGE = `usage: npm run validate -- [options]
  --quick                 a smoke-test subset: fibre, uip, the first seed, nominal + the harshest value per axis
  --families LIST         fibre,voronoi (default both)
  --patterns LIST         ${PATTERNS.join(',')} (default all)
  --seeds LIST            default 2,3
  --axes LIST             psf,noise,thickness,pixel,kernel (default all)
  --metamorphic           on each nominal series also: left-right flip, +20 HU, -20 HU, pixels resampled ×${RESAMPLE_FACTOR} (category and extents within ${METAMORPHIC_TOLERANCE_PP} pp)
  --jobs N                cases in parallel, each in its own process (default 1)
  --out DIR               results.json, summary.md, error-curves.png (default docs/validation/)
  --cache DIR             generated series (default $TMPDIR/ildflow-validate-cache); a re-run reuses complete ones
  --keep                  keep the series afterwards (default: each is deleted once analysed)
  --lung-scale S          patient size (1 ≈ 4.6 L; default: the seed picks 3–6 L); < 1 gives small, fast phantoms
  --super-sample N        phantom in-plane supersampling (default 2)
  --sub-slice MM          phantom slice-profile step (default 0.5)`;

function list<T extends string>(v: string | undefined, allowed: readonly T[], name: string): T[] | undefined {
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) throw new Error(`--${name}: unknown value "${i}" (allowed: ${allowed.join(', ')})`);
  return items as T[];
}

function positiveNumber(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number`);
  return n;
}

const duration = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
};
const signed = (v: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}`;

/** The child's script beside this one, .ts under tsx or .js when built; the child inherits the loader flags. */
const CHILD = fileURLToPath(new URL(`./child${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

function runChild(c: CaseSpec): Promise<{ row?: Row; error?: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...process.execArgv, CHILD, JSON.stringify(c)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('close', (code, signal) => {
      const last = out.trim().split('\n').pop();
      if (code === 0 && last) {
        try {
          done({ row: JSON.parse(last) as Row });
          return;
        } catch {
          /* fall through */
        }
      }
      done({ error: `child exited ${signal ?? code}: ${err.trim().split('\n').slice(-3).join(' | ') || 'no output'}` });
    });
  });
}

/** A row for a case whose process died (out of memory, a crash): counted as a failure. */
function failedRow(c: CaseSpec, error: string): Row {
  const zero = { normal: 0, groundGlass: 0, reticulation: 0, honeycombing: 0, emphysema: 0, consolidation: 0 };
  return {
    id: c.id, family: c.family, pattern: c.pattern, seed: c.seed, physics: c.physics, axes: c.axes, expected: EXPECTED[c.pattern], found: null, ok: false,
    eligible: false, reasons: [], errors: null, truth: { extents: zero, haaPercent: 0, laa950Percent: 0, lungVolumeMl: 0 }, engine: null,
    engineMs: 0, readMs: 0, generateMs: null, size: { rows: 0, columns: 0, slices: 0 }, error,
  };
}

function progressLine(i: number, total: number, r: Row, ms: number, etaMs: number): string {
  const head = `[${i}/${total}] ${r.family} ${r.pattern} seed ${r.seed} ${physicsLabel(r.physics)}`;
  if (!r.errors) return `${head} … FAILED: ${r.error ?? 'unknown'} ${(ms / 1000).toFixed(1)} s, ETA ${duration(etaMs)}`;
  let worst = { k: 'normal', e: 0 };
  for (const [k, e] of Object.entries(r.errors.extents)) if (Math.abs(e) > Math.abs(worst.e)) worst = { k, e };
  const meta = r.metamorphic ? `, metamorphic ${r.metamorphic.filter((m) => m.ok).length}/${r.metamorphic.length} ok` : '';
  return `${head} … category ${r.found} (${r.ok ? 'ok' : `WRONG, expected ${r.expected}`}) worst extent err ${signed(worst.e)} (${worst.k}), ` +
    `HAA ${signed(r.errors.haa)}, LAA ${signed(r.errors.laa950)}${r.eligible ? '' : ' [outside requirements]'}${meta}` +
    ` ${(ms / 1000).toFixed(1)} s${r.generateMs === null ? ' (cached)' : ''}, ETA ${duration(etaMs)}`;
}

export async function validate(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      quick: { type: 'boolean', default: false }, families: { type: 'string' }, patterns: { type: 'string' }, seeds: { type: 'string' },
      axes: { type: 'string' }, metamorphic: { type: 'boolean', default: false }, jobs: { type: 'string', default: '1' },
      out: { type: 'string', default: 'docs/validation' }, cache: { type: 'string' }, keep: { type: 'boolean', default: false },
      'lung-scale': { type: 'string' }, 'super-sample': { type: 'string', default: '2' }, 'sub-slice': { type: 'string', default: '0.5' },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const seeds = v.seeds?.split(',').map(Number) ?? (v.quick ? [2] : [2, 3]);
  if (seeds.some((s) => !Number.isInteger(s))) throw new Error('--seeds: integers, comma-separated');
  const jobs = Math.max(1, Math.floor(Number(v.jobs)));
  if (!Number.isFinite(jobs)) throw new Error('--jobs must be a number');
  const lungScale = positiveNumber(v['lung-scale'], 'lung-scale');
  const cacheDir = resolve(v.cache ?? join(tmpdir(), 'ildflow-validate-cache'));
  const outDir = resolve(v.out);
  const plan: Plan = {
    families: list(v.families, FAMILIES, 'families') ?? (v.quick ? ['fibre'] : [...FAMILIES]),
    patterns: list(v.patterns, PATTERNS, 'patterns') ?? (v.quick ? ['uip'] : [...PATTERNS]),
    seeds,
    axes: list<Axis>(v.axes, AXES, 'axes') ?? [...AXES],
    values: v.quick ? QUICK_AXIS_VALUES : AXIS_VALUES,
    render: {
      superSample: Math.round(positiveNumber(v['super-sample'], 'super-sample')!),
      subSliceMm: positiveNumber(v['sub-slice'], 'sub-slice')!,
      ...(lungScale !== undefined ? { lungScale } : {}),
    },
    cacheDir,
    metamorphic: v.metamorphic,
  };
  const cases = buildCases(plan);
  await mkdir(cacheDir, { recursive: true });
  await mkdir(outDir, { recursive: true });
  process.stderr.write(`validate: ${cases.length} cases (${plan.families.join(',')} × ${plan.patterns.join(',')} × seeds ${seeds.join(',')} × ` +
    `${plan.axes.join(',')}), ${jobs} at a time; series in ${cacheDir}${v.keep ? ' (kept)' : ''}\n`);

  const rows: (Row | undefined)[] = new Array(cases.length);
  const started = performance.now();
  let next = 0;
  let finished = 0;
  const saveResults = () =>
    writeFile(join(outDir, 'results.json'), `${JSON.stringify({ schema: 'ildflow.validation-results/1', nominal: NOMINAL, plan: { ...plan, cacheDir: undefined }, rows: rows.filter(Boolean) }, null, 2)}\n`);
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const idx = next++;
      const c = { ...cases[idx]!, threads: Math.max(1, Math.floor(availableParallelism() / jobs)) };
      const t0 = performance.now();
      const res = await runChild(c);
      const row = res.row ?? failedRow(c, res.error ?? 'unknown');
      rows[idx] = row;
      if (!v.keep) await rm(c.seriesDir, { recursive: true, force: true });
      finished++;
      const elapsed = performance.now() - started;
      process.stderr.write(`${progressLine(finished, cases.length, row, performance.now() - t0, (elapsed / finished) * (cases.length - finished))}\n`);
      await saveResults();
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, cases.length) }, worker));
  if (!v.keep) {
    // Partial folders of interrupted generations, then the cache itself if nothing else is in it.
    for (const f of await readdir(cacheDir)) if (f.includes('.partial-')) await rm(join(cacheDir, f), { recursive: true, force: true });
    if ((await readdir(cacheDir)).length === 0) await rmdir(cacheDir);
  }

  const done = rows.filter((r): r is Row => r !== undefined);
  const summary = summarize(done);
  const notes = [
    `Render: superSample ${plan.render.superSample}, sub-slice ${plan.render.subSliceMm} mm${lungScale !== undefined ? `, lung scale ${lungScale}` : ''}` +
      `${v.quick ? '; `--quick` subset' : ''}. Series outside the engine's declared requirements are analysed anyway and marked in results.json (\`eligible\`).`,
  ];
  if (plan.metamorphic) {
    notes.push('Metamorphic checks run on the nominal series, transforming the assembled volume in memory (a left–right mirror of the columns; ' +
      `±20 HU added to every voxel, as a changed RescaleIntercept would; the slices resampled bilinearly to pixels ×${RESAMPLE_FACTOR}, as a larger field of view would give).`);
  }
  const info = { date: new Date().toISOString(), nominal: NOMINAL, families: plan.families, patterns: plan.patterns, seeds, notes };
  await writeFile(join(outDir, 'summary.md'), summaryMarkdown(summary, info));
  if (summary.byAxis.length) await writeFile(join(outDir, 'error-curves.png'), errorCurvesPng(summary, 'ildflow reference engine - validation sweep on the scanner phantom'));
  await saveResults();
  const o = summary.overall;
  process.stderr.write(`validate: ${o.correct}/${o.n} categories right; worst extent error ${o.worstExtent ? `${signed(o.worstExtent.error)} pp (${o.worstExtent.class}, ${o.worstExtent.id})` : '–'}` +
    `${summary.metamorphic.n ? `; metamorphic ${summary.metamorphic.passed}/${summary.metamorphic.n}` : ''}; ${duration(performance.now() - started)}. Wrote ${outDir}/{results.json,summary.md,error-curves.png}\n`);
  return o.failed > 0 ? 1 : 0;
}

validate(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`validate: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exitCode = 2;
  },
);
