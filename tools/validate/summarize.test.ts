import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { physicsPoints, AXIS_VALUES, NOMINAL } from './cases.js';
import { errorCurvesPng } from './plot.js';
import { Canvas, encodePng } from './png.js';
import { errorsOf, stats, summarize, summaryMarkdown, type Axis, type Extents, type MetamorphicCheck, type Row } from './summarize.js';

const ZERO: Extents = { normal: 0, groundGlass: 0, reticulation: 0, honeycombing: 0, emphysema: 0, consolidation: 0 };

/** A row with the given errors (engine − truth); the truth is a fixed UIP lung. */
function row(o: {
  id: string; family?: 'fibre' | 'voronoi'; pattern?: Row['pattern']; axes: Axis[]; psf?: number; noise?: number;
  found?: Row['found']; expected?: Row['expected']; ext?: Partial<Extents>; haa?: number; laa?: number; failed?: boolean; metamorphic?: MetamorphicCheck[];
}): Row {
  const truth = { extents: { ...ZERO, normal: 80, reticulation: 12, honeycombing: 8 }, haaPercent: 10, laa950Percent: 2, lungVolumeMl: 4000 };
  const e = { ...ZERO, ...o.ext };
  const engine = {
    extents: { normal: truth.extents.normal + e.normal, groundGlass: e.groundGlass, reticulation: 12 + e.reticulation, honeycombing: 8 + e.honeycombing, emphysema: e.emphysema, consolidation: e.consolidation },
    haaPercent: 10 + (o.haa ?? 0), laa950Percent: 2 + (o.laa ?? 0), lungVolumeMl: 4200,
  };
  const expected = o.expected ?? 'uip';
  const found = o.failed ? null : (o.found ?? expected);
  return {
    id: o.id, family: o.family ?? 'fibre', pattern: o.pattern ?? 'uip', seed: 2,
    physics: { ...NOMINAL, psfSigmaMm: o.psf ?? 0.6, noiseHu: o.noise ?? 30 }, axes: o.axes,
    expected, found, ok: found === expected, eligible: true, reasons: [],
    errors: o.failed ? null : errorsOf(engine, truth), truth, engine: o.failed ? null : engine,
    engineMs: 1000, readMs: 100, generateMs: null, size: { rows: 8, columns: 8, slices: 8 },
    ...(o.metamorphic ? { metamorphic: o.metamorphic } : {}), ...(o.failed ? { error: 'boom' } : {}),
  };
}

describe('summarize', () => {
  const rows: Row[] = [
    row({ id: 'nominal-f', axes: ['psf', 'noise'], ext: { reticulation: 1, normal: -1 }, haa: 0.5, laa: -0.2 }),
    row({ id: 'nominal-v', family: 'voronoi', axes: ['psf', 'noise'], ext: { honeycombing: -3, normal: 3 }, haa: -1, laa: 0.1 }),
    row({ id: 'psf1.2-f', axes: ['psf'], psf: 1.2, found: 'probable_uip', ext: { honeycombing: -6, reticulation: 2, normal: 4 }, haa: 2.5, laa: 0.3 }),
    row({ id: 'noise120-v', family: 'voronoi', axes: ['noise'], noise: 120, ext: { groundGlass: 5, normal: -4, consolidation: -1 }, haa: 4, laa: -3 }),
    row({ id: 'noise120-f', axes: ['noise'], noise: 120, failed: true }),
  ];

  it('counts categories and finds the worst errors, sign kept', () => {
    const s = summarize(rows);
    expect(s.overall).toMatchObject({ n: 5, correct: 3, failed: 1, accuracy: 0.6 });
    expect(s.overall.worstExtent).toEqual({ error: -6, class: 'honeycombing', id: 'psf1.2-f' });
    expect(s.overall.worstHaa).toEqual({ error: 4, id: 'noise120-v' });
    expect(s.overall.worstLaa950).toEqual({ error: -3, id: 'noise120-v' });
    expect(s.overall.worstLungVolumePercent?.error).toBe(5);
    // |errors| summed over the 4 analysed rows × 6 classes: 2 + 6 + 12 + 10 = 30.
    expect(s.overall.meanAbsExtent).toBeCloseTo(30 / 24, 10);
    expect(s.misses.map((m) => m.id)).toEqual(['psf1.2-f', 'noise120-f']);
  });

  it('groups by family and pattern', () => {
    const s = summarize(rows);
    expect(Object.keys(s.byFamily)).toEqual(['fibre', 'voronoi']);
    expect(s.byFamily.fibre).toMatchObject({ n: 3, correct: 1, failed: 1 });
    expect(s.byFamily.voronoi).toMatchObject({ n: 2, correct: 2 });
    expect(s.byFamily.voronoi!.worstExtent).toEqual({ error: 5, class: 'groundGlass', id: 'noise120-v' });
    expect(s.byPattern.uip!.n).toBe(5);
  });

  it('puts the nominal rows in every axis they belong to, values ascending', () => {
    const s = summarize(rows);
    expect(s.byAxis.map((a) => a.axis)).toEqual(['psf', 'noise']);
    const psf = s.byAxis[0]!;
    expect(psf.values.map((v) => v.value)).toEqual([0.6, 1.2]);
    expect(psf.values[0]!.all).toMatchObject({ n: 2, accuracy: 1 });
    expect(psf.values[1]!.all).toMatchObject({ n: 1, accuracy: 0 });
    expect(psf.values[1]!.byFamily.voronoi).toBeUndefined();
    const noise = s.byAxis[1]!;
    expect(noise.values.map((v) => [v.value, v.all.n, v.all.correct])).toEqual([[30, 2, 2], [120, 2, 1]]);
    expect(noise.values[1]!.byFamily.fibre).toMatchObject({ n: 1, failed: 1, worstExtent: null });
  });

  it('tallies the metamorphic checks', () => {
    const ok: MetamorphicCheck = { transform: 'flip-lr', category: 'uip', categoryUnchanged: true, maxExtentChange: 0.4, maxExtentChangeClass: 'reticulation', ok: true };
    const bad: MetamorphicCheck = { transform: 'hu+20', category: 'probable_uip', categoryUnchanged: false, maxExtentChange: 2.5, maxExtentChangeClass: 'honeycombing', ok: false };
    const s = summarize([row({ id: 'm', axes: ['psf'], metamorphic: [ok, bad] })]);
    expect(s.metamorphic).toMatchObject({ n: 2, passed: 1, byTransform: { 'flip-lr': { n: 1, passed: 1, worstExtentChange: 0.4 }, 'hu+20': { n: 1, passed: 0, worstExtentChange: 2.5 } } });
    expect(s.metamorphic.failures).toEqual([{ id: 'm', check: bad }]);
  });

  it('of no rows is empty, not an error', () => {
    const s = summarize([]);
    expect(s.overall.n).toBe(0);
    expect(Number.isNaN(s.overall.accuracy)).toBe(true);
    expect(s.byAxis).toEqual([]);
    expect(stats([]).worstExtent).toBeNull();
  });

  it('renders summary.md tables and a PNG', () => {
    const s = summarize(rows);
    const md = summaryMarkdown(s, { date: '2024-01-01', nominal: NOMINAL, families: ['fibre', 'voronoi'], patterns: ['uip'], seeds: [2], notes: [] });
    expect(md).toContain('## PSF sigma (mm)');
    expect(md).toContain('| 1.2 | all | 1 | 0% (0/1) | −6.0 (honeycombing) |');
    expect(md).toContain('- psf1.2-f: expected uip, found probable_uip');
    const png = errorCurvesPng(s, 'test');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});

describe('physicsPoints', () => {
  it('shares the nominal point between all sweeps: 1 + 3 + 3 + 3 + 2 points', () => {
    const pts = physicsPoints(['psf', 'noise', 'thickness', 'pixel'], AXIS_VALUES);
    expect(pts).toHaveLength(12);
    expect(pts[1]!.axes).toEqual(['psf', 'noise', 'thickness', 'pixel']);
    expect(pts.find((p) => p.physics.sliceThicknessMm === 3)!.physics.sliceSpacingMm).toBe(3);
  });
});

describe('png', () => {
  it('encodes an RGB image that inflates back to filter bytes and pixels', () => {
    const c = new Canvas(3, 2, [10, 20, 30]);
    c.set(1, 1, [255, 0, 0]);
    const png = c.png();
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const idatAt = png.indexOf('IDAT');
    const len = png.readUInt32BE(idatAt - 4);
    const raw = inflateSync(png.subarray(idatAt + 4, idatAt + 4 + len));
    expect([...raw]).toEqual([0, 10, 20, 30, 10, 20, 30, 10, 20, 30, 0, 10, 20, 30, 255, 0, 0, 10, 20, 30]);
    expect(() => encodePng(2, 2, new Uint8Array(3))).toThrow(RangeError);
  });

  it('draws text with the bitmap font', () => {
    const c = new Canvas(40, 10);
    expect(c.text('A1', 0, 0, [0, 0, 0], 1)).toBe(12);
    expect(c.data.some((v) => v === 0)).toBe(true);
  });
});
