/**
 * The validation sweep's rows and their summary (tools/validate/main.ts). Pure: `summarize` turns the
 * rows of one run into the figures of summary.md and error-curves.png, and is unit-tested with hand-made
 * rows (summarize.test.ts).
 */
import type { Category } from '../../shared/engines/contract.js';
import type { PhantomPattern } from '../../shared/phantom/generate-phantom.js';
import type { ScannerFamily } from '../phantom/scanner/types.js';

export const AXES = ['psf', 'noise', 'thickness', 'pixel', 'kernel'] as const;
export type Axis = (typeof AXES)[number];

export const EXTENT_KEYS = ['normal', 'groundGlass', 'reticulation', 'honeycombing', 'emphysema', 'consolidation'] as const;
export type ExtentKey = (typeof EXTENT_KEYS)[number];
export type Extents = Record<ExtentKey, number>;

export type Physics = {
  psfSigmaMm: number;
  noiseHu: number;
  sliceThicknessMm: number;
  sliceSpacingMm: number;
  pixelSpacingMm: number;
  /** Edge enhancement of a sharp kernel (the phantom's `edgeEnhancement`; 0 = a plain Gaussian PSF). */
  edgeEnhancement: number;
};

/** Which physics field each sweep varies, and how it is labelled. */
export const AXIS_INFO: Record<Axis, { field: keyof Physics; label: string; unit: string }> = {
  psf: { field: 'psfSigmaMm', label: 'PSF sigma', unit: 'mm' },
  noise: { field: 'noiseHu', label: 'noise SD', unit: 'HU' },
  thickness: { field: 'sliceThicknessMm', label: 'slice thickness', unit: 'mm' },
  pixel: { field: 'pixelSpacingMm', label: 'pixel spacing', unit: 'mm' },
  kernel: { field: 'edgeEnhancement', label: 'kernel edge enhancement', unit: '' },
};

/** An axis's label with its unit in brackets, when it has one. */
export const axisTitle = (info: { label: string; unit: string }): string => (info.unit ? `${info.label} (${info.unit})` : info.label);

/** Extents may move by this much (pp) under a transform that should not change the answer. */
export const METAMORPHIC_TOLERANCE_PP = 2;
/** Factor of the `resample` transform: pixels 25 % larger (0.7 mm → 0.875 mm). */
export const RESAMPLE_FACTOR = 1.25;

export type MetamorphicTransform = 'flip-lr' | 'hu+20' | 'hu-20' | 'resample';

export type MetamorphicCheck = {
  transform: MetamorphicTransform;
  category: Category | null;
  categoryUnchanged: boolean;
  /** Largest |extent(transformed) − extent(original)| over the six classes, percentage points. */
  maxExtentChange: number;
  maxExtentChangeClass: ExtentKey | null;
  /** Category unchanged and every extent within the tolerance. */
  ok: boolean;
  error?: string;
};

/** What the engine got wrong on one series: engine − truth. */
export type Errors = {
  /** Percentage points of lung, per class. */
  extents: Extents;
  haa: number;
  laa950: number;
  /** (engine − truth) / truth × 100. */
  lungVolumePercent: number;
};

/** Which series of the sweep: a case to run (cases.ts) and its row of results share these. */
export type SeriesKey = {
  id: string;
  family: ScannerFamily;
  pattern: PhantomPattern;
  seed: number;
  physics: Physics;
  /** The sweeps this series belongs to: every axis for the nominal point, one otherwise. */
  axes: Axis[];
};

export type Row = SeriesKey & {
  expected: Category;
  /** null when the engine failed (then `error` says why and `errors` is null). */
  found: Category | null;
  ok: boolean;
  /** Whether the series meets the engine's declared requirements (it is analysed either way). */
  eligible: boolean;
  reasons: string[];
  errors: Errors | null;
  truth: { extents: Extents; haaPercent: number; laa950Percent: number; lungVolumeMl: number };
  engine: { extents: Extents; haaPercent: number; laa950Percent: number; lungVolumeMl: number } | null;
  engineMs: number;
  readMs: number;
  /** null when the series came from the cache. */
  generateMs: number | null;
  size: { rows: number; columns: number; slices: number };
  metamorphic?: MetamorphicCheck[];
  error?: string;
};

export type Stats = {
  n: number;
  /** Rows on which the engine failed outright (counted as wrong categories). */
  failed: number;
  correct: number;
  /** correct / n, 0…1 (NaN when n = 0). */
  accuracy: number;
  /** Signed error of the largest |extent error| over rows and classes. */
  worstExtent: { error: number; class: ExtentKey; id: string } | null;
  /** Mean of |extent error| over rows and the six classes. */
  meanAbsExtent: number;
  worstHaa: { error: number; id: string } | null;
  worstLaa950: { error: number; id: string } | null;
  worstLungVolumePercent: { error: number; id: string } | null;
};

export type AxisValueStats = { value: number; all: Stats; byFamily: Partial<Record<ScannerFamily, Stats>> };
export type AxisSummary = { axis: Axis; values: AxisValueStats[] };

export type MetamorphicSummary = {
  n: number;
  passed: number;
  byTransform: Partial<Record<MetamorphicTransform, { n: number; passed: number; worstExtentChange: number }>>;
  failures: { id: string; check: MetamorphicCheck }[];
};

export type Summary = {
  overall: Stats;
  byFamily: Partial<Record<ScannerFamily, Stats>>;
  byPattern: Partial<Record<PhantomPattern, Stats>>;
  byAxis: AxisSummary[];
  metamorphic: MetamorphicSummary;
  /** Rows whose category was wrong (or that failed), for the report. */
  misses: { id: string; expected: Category; found: Category | null; error?: string }[];
};

/** Figures over any set of rows. */
export function stats(rows: readonly Row[]): Stats {
  const s: Stats = {
    n: rows.length, failed: 0, correct: 0, accuracy: NaN, worstExtent: null, meanAbsExtent: NaN,
    worstHaa: null, worstLaa950: null, worstLungVolumePercent: null,
  };
  let absSum = 0;
  let absCount = 0;
  const worse = (cur: { error: number } | null, e: number): boolean => Number.isFinite(e) && (cur === null || Math.abs(e) > Math.abs(cur.error));
  for (const r of rows) {
    if (r.ok) s.correct++;
    if (!r.errors) {
      s.failed++;
      continue;
    }
    for (const k of EXTENT_KEYS) {
      const e = r.errors.extents[k];
      if (!Number.isFinite(e)) continue;
      absSum += Math.abs(e);
      absCount++;
      if (worse(s.worstExtent, e)) s.worstExtent = { error: e, class: k, id: r.id };
    }
    if (worse(s.worstHaa, r.errors.haa)) s.worstHaa = { error: r.errors.haa, id: r.id };
    if (worse(s.worstLaa950, r.errors.laa950)) s.worstLaa950 = { error: r.errors.laa950, id: r.id };
    if (worse(s.worstLungVolumePercent, r.errors.lungVolumePercent)) s.worstLungVolumePercent = { error: r.errors.lungVolumePercent, id: r.id };
  }
  if (rows.length) s.accuracy = s.correct / rows.length;
  if (absCount) s.meanAbsExtent = absSum / absCount;
  return s;
}

function groupBy<K extends string | number>(rows: readonly Row[], key: (r: Row) => K): Map<K, Row[]> {
  const m = new Map<K, Row[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

function statsBy<K extends string>(rows: readonly Row[], key: (r: Row) => K): Partial<Record<K, Stats>> {
  const out: Partial<Record<K, Stats>> = {};
  for (const [k, list] of [...groupBy(rows, key)].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out[k] = stats(list);
  return out;
}

/** Summarises one run. Rows appear in an axis's table when `axes` names that axis. */
export function summarize(rows: readonly Row[]): Summary {
  const byAxis: AxisSummary[] = [];
  for (const axis of AXES) {
    const inAxis = rows.filter((r) => r.axes.includes(axis));
    if (!inAxis.length) continue;
    const field = AXIS_INFO[axis].field;
    const values = [...groupBy(inAxis, (r) => r.physics[field])]
      .sort((a, b) => a[0] - b[0])
      .map(([value, list]) => ({ value, all: stats(list), byFamily: statsBy(list, (r) => r.family) }));
    byAxis.push({ axis, values });
  }
  const metamorphic: MetamorphicSummary = { n: 0, passed: 0, byTransform: {}, failures: [] };
  for (const r of rows) {
    for (const c of r.metamorphic ?? []) {
      metamorphic.n++;
      const t = (metamorphic.byTransform[c.transform] ??= { n: 0, passed: 0, worstExtentChange: 0 });
      t.n++;
      if (c.ok) {
        metamorphic.passed++;
        t.passed++;
      } else metamorphic.failures.push({ id: r.id, check: c });
      if (Number.isFinite(c.maxExtentChange)) t.worstExtentChange = Math.max(t.worstExtentChange, c.maxExtentChange);
    }
  }
  return {
    overall: stats(rows),
    byFamily: statsBy(rows, (r) => r.family),
    byPattern: statsBy(rows, (r) => r.pattern),
    byAxis,
    metamorphic,
    misses: rows.filter((r) => !r.ok).map((r) => ({ id: r.id, expected: r.expected, found: r.found, ...(r.error ? { error: r.error } : {}) })),
  };
}

/** Engine − truth, rounded to 0.01. */
export function errorsOf(engine: NonNullable<Row['engine']>, truth: Row['truth']): Errors {
  const r2 = (v: number): number => Math.round(v * 100) / 100;
  const extents = {} as Extents;
  for (const k of EXTENT_KEYS) extents[k] = r2(engine.extents[k] - truth.extents[k]);
  return {
    extents,
    haa: r2(engine.haaPercent - truth.haaPercent),
    laa950: r2(engine.laa950Percent - truth.laa950Percent),
    lungVolumePercent: r2(((engine.lungVolumeMl - truth.lungVolumeMl) / truth.lungVolumeMl) * 100),
  };
}

// ---- summary.md ------------------------------------------------------------------------------------

const signed = (v: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}`;
const pct = (s: Stats): string => (Number.isFinite(s.accuracy) ? `${(s.accuracy * 100).toFixed(0)}% (${s.correct}/${s.n})` : '–');
const worstCell = (w: { error: number; class?: ExtentKey } | null): string => (w ? `${signed(w.error)}${w.class ? ` (${w.class})` : ''}` : '–');
const meanCell = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '–');

const HEAD = '| category accuracy | worst extent error (pp) | mean abs. extent error (pp) | worst HAA error (pp) | worst LAA-950 error (pp) | worst lung volume error (%) |';
const RULE = '|---|---|---|---|---|---|';
const cells = (s: Stats): string =>
  `| ${pct(s)} | ${worstCell(s.worstExtent)} | ${meanCell(s.meanAbsExtent)} | ${worstCell(s.worstHaa)} | ${worstCell(s.worstLaa950)} | ${worstCell(s.worstLungVolumePercent)} |`;

export type RunInfo = { date: string; nominal: Physics; families: string[]; patterns: string[]; seeds: number[]; notes: string[] };

/** summary.md for a run. */
export function summaryMarkdown(s: Summary, info: RunInfo): string {
  const out: string[] = [];
  out.push('# Reference engine validation sweep', '');
  out.push(`Generated by \`npm run validate\` on ${info.date}. Scanner phantom (tools/phantom/scanner) families ${info.families.join(', ')}; ` +
    `patterns ${info.patterns.join(', ')}; seeds ${info.seeds.join(', ')}.`);
  const n = info.nominal;
  out.push(`One factor at a time around the nominal point: PSF σ ${n.psfSigmaMm} mm, noise ${n.noiseHu} HU, slice thickness ${n.sliceThicknessMm} mm ` +
    `(spacing = thickness), pixel ${n.pixelSpacingMm} mm. Errors are engine − truth in percentage points of lung; "worst" is the largest in magnitude, sign kept.`);
  for (const note of info.notes) out.push('', note);
  out.push('', '## Overall', '', `| | n ${HEAD}`, `|---|---${RULE}`, `| all | ${s.overall.n} ${cells(s.overall)}`);
  for (const [f, st] of Object.entries(s.byFamily)) out.push(`| ${f} | ${st!.n} ${cells(st!)}`);
  out.push('', '## Per pattern', '', `| pattern | n ${HEAD}`, `|---|---${RULE}`);
  for (const [p, st] of Object.entries(s.byPattern)) out.push(`| ${p} | ${st!.n} ${cells(st!)}`);
  for (const a of s.byAxis) {
    const info2 = AXIS_INFO[a.axis];
    out.push('', `## ${axisTitle(info2)}`, '', `| ${info2.label} | family | n ${HEAD}`, `|---|---|---${RULE}`);
    for (const v of a.values) {
      out.push(`| ${v.value} | all | ${v.all.n} ${cells(v.all)}`);
      for (const [f, st] of Object.entries(v.byFamily)) out.push(`| | ${f} | ${st!.n} ${cells(st!)}`);
    }
  }
  if (s.metamorphic.n) {
    const m = s.metamorphic;
    out.push('', '## Metamorphic checks', '', 'Each transformed volume must keep the category and every extent within 2 pp of the untransformed one.', '');
    out.push('| transform | passed | worst extent change (pp) |', '|---|---|---|');
    for (const [t, v] of Object.entries(m.byTransform)) out.push(`| ${t} | ${v!.passed}/${v!.n} | ${v!.worstExtentChange.toFixed(2)} |`);
    if (m.failures.length) {
      out.push('', 'Failures:', '');
      for (const f of m.failures) {
        const c = f.check;
        out.push(`- ${f.id} ${c.transform}: category ${c.category ?? 'failed'}${c.categoryUnchanged ? '' : ' (changed)'}, ` +
          `largest extent change ${c.maxExtentChange.toFixed(2)} pp${c.maxExtentChangeClass ? ` (${c.maxExtentChangeClass})` : ''}${c.error ? ` — ${c.error}` : ''}`);
      }
    }
  }
  out.push('', '## Wrong categories', '');
  if (!s.misses.length) out.push('None.');
  for (const m of s.misses) out.push(`- ${m.id}: expected ${m.expected}, found ${m.found ?? 'nothing'}${m.error ? ` (${m.error})` : ''}`);
  out.push('');
  return out.join('\n');
}
