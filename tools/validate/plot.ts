/**
 * error-curves.png: one panel per swept axis. In each panel the upper chart is the category accuracy and
 * the lower chart the worst |extent error|, worst |HAA error| and worst |LAA-950 error| (percentage
 * points) against the physical parameter; colour = phantom family, line style and marker = quantity.
 */
import { Canvas, type Rgb } from './png.js';
import { AXIS_INFO, axisTitle, type Stats, type Summary } from './summarize.js';

const FAMILY_COLOURS: Record<string, Rgb> = { fibre: [31, 119, 180], voronoi: [230, 110, 0] };
const OTHER_COLOURS: Rgb[] = [[44, 160, 44], [148, 103, 189], [140, 86, 75]];
const GRID: Rgb = [225, 225, 225];
const AXIS_C: Rgb = [60, 60, 60];
const MUTED: Rgb = [110, 110, 110];

type Metric = { label: string; get: (s: Stats) => number; marker: 'circle' | 'square' | 'triangle'; dash?: readonly [number, number] };
const ERROR_METRICS: Metric[] = [
  { label: 'worst extent', get: (s) => Math.abs(s.worstExtent?.error ?? NaN), marker: 'circle' },
  { label: 'worst HAA', get: (s) => Math.abs(s.worstHaa?.error ?? NaN), marker: 'square', dash: [10, 6] },
  { label: 'worst LAA-950', get: (s) => Math.abs(s.worstLaa950?.error ?? NaN), marker: 'triangle', dash: [3, 5] },
];

/** A round step giving about `n` intervals over [0, max]. */
function niceStep(max: number, n: number): number {
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

const fmt = (v: number): string => String(Number(v.toFixed(2)));

type Frame = { x: number; y: number; w: number; h: number; xMin: number; xMax: number; yMax: number };
const px = (f: Frame, v: number): number => (f.xMax === f.xMin ? f.x + f.w / 2 : f.x + ((v - f.xMin) / (f.xMax - f.xMin)) * f.w);
const py = (f: Frame, v: number): number => f.y + f.h - (Math.min(v, f.yMax) / f.yMax) * f.h;

function frame(c: Canvas, f: Frame, xs: readonly number[], yStep: number, yLabel: string, showX: boolean): void {
  for (let v = 0; v <= f.yMax + 1e-9; v += yStep) {
    const y = py(f, v);
    c.line(f.x, y, f.x + f.w, y, GRID);
    const t = fmt(v);
    c.text(t, f.x - 8 - Canvas.textWidth(t), y - 7, MUTED);
  }
  for (const v of xs) {
    c.line(px(f, v), f.y, px(f, v), f.y + f.h, GRID);
    if (showX) c.text(fmt(v), px(f, v) - Canvas.textWidth(fmt(v)) / 2, f.y + f.h + 8, MUTED);
  }
  c.line(f.x, f.y + f.h, f.x + f.w, f.y + f.h, AXIS_C, 2);
  c.line(f.x, f.y, f.x, f.y + f.h, AXIS_C, 2);
  c.textUp(yLabel, f.x - 68, f.y + f.h / 2 + Canvas.textWidth(yLabel) / 2, AXIS_C);
}

function series(c: Canvas, f: Frame, pts: readonly (readonly [number, number])[], colour: Rgb, m: Pick<Metric, 'marker' | 'dash'>): void {
  const ok = pts.filter(([, y]) => Number.isFinite(y));
  for (let i = 1; i < ok.length; i++) c.line(px(f, ok[i - 1]![0]), py(f, ok[i - 1]![1]), px(f, ok[i]![0]), py(f, ok[i]![1]), colour, 3, m.dash);
  for (const [x, y] of ok) c.marker(m.marker, px(f, x), py(f, y), colour, 5);
}

export function errorCurvesPng(s: Summary, title: string): Buffer {
  const W = 1500, H = 1160;
  const c = new Canvas(W, H);
  c.text(title, 30, 20, [0, 0, 0], 3);
  const families = [...new Set(s.byAxis.flatMap((a) => a.values.flatMap((v) => Object.keys(v.byFamily))))].sort();
  const colour = (f: string, i: number): Rgb => FAMILY_COLOURS[f] ?? OTHER_COLOURS[i % OTHER_COLOURS.length]!;

  // Legend: families by colour, quantities by line style and marker.
  let lx = 30;
  const ly = 62;
  for (const [i, f] of families.entries()) {
    c.fillRect(lx, ly + 2, 26, 10, colour(f, i));
    lx += 34 + c.text(f, lx + 34, ly, AXIS_C) + 30;
  }
  lx += 20;
  for (const m of ERROR_METRICS) {
    c.line(lx, ly + 7, lx + 44, ly + 7, AXIS_C, 3, m.dash);
    c.marker(m.marker, lx + 22, ly + 7, AXIS_C, 5);
    lx += 54 + c.text(m.label, lx + 54, ly, AXIS_C) + 30;
  }
  c.text('upper: category accuracy (%)   lower: |engine - truth| (pp of lung)', 30, ly + 28, MUTED);

  const panelW = W / 2, panelH = (H - 120) / 2;
  for (const [k, a] of s.byAxis.entries()) {
    const ox = (k % 2) * panelW, oy = 120 + Math.floor(k / 2) * panelH;
    const info = AXIS_INFO[a.axis];
    const xs = a.values.map((v) => v.value);
    const xMin = Math.min(...xs), xMax = Math.max(...xs);
    const left = ox + 110, w = panelW - 160;
    c.text(axisTitle(info), left, oy + 10, [0, 0, 0], 3);
    const top: Frame = { x: left, y: oy + 50, w, h: 130, xMin, xMax, yMax: 100 };
    frame(c, top, xs, 25, 'accuracy %', false);
    let errMax = 1;
    for (const v of a.values) for (const st of Object.values(v.byFamily)) for (const m of ERROR_METRICS) if (Number.isFinite(m.get(st!))) errMax = Math.max(errMax, m.get(st!));
    const step = niceStep(errMax, 4);
    const bottom: Frame = { x: left, y: oy + 205, w, h: panelH - 270, xMin, xMax, yMax: Math.ceil(errMax / step) * step };
    frame(c, bottom, xs, step, 'error pp', true);
    const xl = axisTitle(info);
    c.text(xl, left + w / 2 - Canvas.textWidth(xl) / 2, bottom.y + bottom.h + 32, AXIS_C);
    for (const [i, f] of families.entries()) {
      const pts = (get: (st: Stats) => number) => a.values.flatMap((v) => (v.byFamily[f as keyof typeof v.byFamily] ? [[v.value, get(v.byFamily[f as keyof typeof v.byFamily]!)] as const] : []));
      series(c, top, pts((st) => st.accuracy * 100), colour(f, i), { marker: 'circle' });
      for (const m of ERROR_METRICS) series(c, bottom, pts(m.get), colour(f, i), m);
    }
  }
  return c.png();
}
