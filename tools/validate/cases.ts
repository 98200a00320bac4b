/**
 * The sweep's cases: one factor at a time around the nominal point, the nominal series shared by all
 * four sweeps, × families × patterns × seeds. Each case names its series' cache folder by a hash of
 * everything the phantom depends on, the generator's own source included, so a re-run with `--keep`
 * only re-analyses and a changed generator never serves a stale series.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PhantomPattern } from '../../shared/phantom/generate-phantom.js';
import type { ScannerFamily } from '../phantom/scanner/types.js';
import { AXIS_INFO, type Axis, type Physics, type SeriesKey } from './summarize.js';

export const NOMINAL: Physics = { psfSigmaMm: 0.6, noiseHu: 30, sliceThicknessMm: 1, sliceSpacingMm: 1, pixelSpacingMm: 0.7, edgeEnhancement: 0 };

export const AXIS_VALUES: Record<Axis, readonly number[]> = {
  psf: [0.3, 0.6, 0.9, 1.2],
  noise: [10, 30, 60, 120],
  thickness: [0.6, 1, 2, 3],
  pixel: [0.5, 0.7, 1.0],
  kernel: [0, 0.3, 0.6],
};

/** `--quick`: the nominal point and each axis's harshest value. */
export const QUICK_AXIS_VALUES: Record<Axis, readonly number[]> = {
  psf: [0.6, 1.2],
  noise: [30, 120],
  thickness: [1, 3],
  pixel: [0.7, 1.0],
  kernel: [0, 0.6],
};

/** How the phantom is rendered, beyond the physics (speed/fidelity knobs and the patient's size). */
export type RenderOptions = { superSample: number; subSliceMm: number; lungScale?: number };

export type CaseSpec = SeriesKey & {
  render: RenderOptions;
  /** Image matrix; undefined = the generator's default for the pixel size. */
  matrix?: number;
  /** The cached series' folder (complete when it holds a `.complete` marker). */
  seriesDir: string;
  metamorphic: boolean;
  /** The engine's threads for this case (the cores shared among the parallel cases). */
  threads?: number;
};

export type Plan = {
  families: ScannerFamily[];
  patterns: PhantomPattern[];
  seeds: number[];
  axes: Axis[];
  values: Record<Axis, readonly number[]>;
  render: RenderOptions;
  cacheDir: string;
  metamorphic: boolean;
};

const withAxis = (axis: Axis, value: number): Physics => {
  const p = { ...NOMINAL, [AXIS_INFO[axis].field]: value };
  if (axis === 'thickness') p.sliceSpacingMm = value;
  return p;
};

const samePhysics = (a: Physics, b: Physics): boolean =>
  a.psfSigmaMm === b.psfSigmaMm && a.noiseHu === b.noiseHu && a.sliceThicknessMm === b.sliceThicknessMm &&
  a.sliceSpacingMm === b.sliceSpacingMm && a.pixelSpacingMm === b.pixelSpacingMm && a.edgeEnhancement === b.edgeEnhancement;

/** Physics points of the sweep, each with the axes it belongs to (the nominal point: every axis swept). */
export function physicsPoints(axes: readonly Axis[], values: Record<Axis, readonly number[]>): { physics: Physics; axes: Axis[] }[] {
  const points: { physics: Physics; axes: Axis[] }[] = [];
  for (const axis of axes) {
    for (const v of values[axis]) {
      const physics = withAxis(axis, v);
      const found = points.find((p) => samePhysics(p.physics, physics));
      if (found) found.axes.push(axis);
      else points.push({ physics, axes: [axis] });
    }
  }
  return points;
}

/** Short label of what differs from the nominal point, for progress lines and ids. */
export function physicsLabel(p: Physics): string {
  const parts: string[] = [];
  if (p.psfSigmaMm !== NOMINAL.psfSigmaMm) parts.push(`psf=${p.psfSigmaMm}`);
  if (p.noiseHu !== NOMINAL.noiseHu) parts.push(`noise=${p.noiseHu}`);
  if (p.sliceThicknessMm !== NOMINAL.sliceThicknessMm) parts.push(`thickness=${p.sliceThicknessMm}`);
  if (p.sliceSpacingMm !== p.sliceThicknessMm) parts.push(`spacing=${p.sliceSpacingMm}`);
  if (p.pixelSpacingMm !== NOMINAL.pixelSpacingMm) parts.push(`pixel=${p.pixelSpacingMm}`);
  if (p.edgeEnhancement !== NOMINAL.edgeEnhancement) parts.push(`edge=${p.edgeEnhancement}`);
  return parts.length ? parts.join(' ') : 'nominal';
}

/** Matrix for a smaller (or larger) patient: the generator's 360 mm field scaled, rounded up to 16. */
export function matrixFor(pixelSpacingMm: number, lungScale?: number): number | undefined {
  if (lungScale === undefined) return undefined;
  return Math.ceil(Math.ceil((360 * Math.max(0.3, lungScale)) / pixelSpacingMm) / 16) * 16;
}

let generatorHash: string | undefined;
/** Hash of the scanner phantom's source files (the .ts files under tsx, the .js files when built). */
export function phantomSourceHash(): string {
  if (generatorHash) return generatorHash;
  const dir = fileURLToPath(new URL('../phantom/scanner/', import.meta.url));
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) {
    if (!/\.(ts|js)$/.test(f) || f.includes('.test.')) continue;
    h.update(f).update(readFileSync(join(dir, f)));
  }
  return (generatorHash = h.digest('hex').slice(0, 12));
}

export function cacheKey(c: Pick<CaseSpec, 'family' | 'pattern' | 'seed' | 'physics' | 'render' | 'matrix'>): string {
  const key = JSON.stringify({
    v: 1, generator: phantomSourceHash(), family: c.family, pattern: c.pattern, seed: c.seed, physics: c.physics,
    render: c.render, matrix: c.matrix ?? null, pixelRepresentation: 'int16',
  });
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** All cases of a plan, grouped by series so neighbouring cases share a patient. */
export function buildCases(plan: Plan): CaseSpec[] {
  const points = physicsPoints(plan.axes, plan.values);
  const cases: CaseSpec[] = [];
  for (const family of plan.families) {
    for (const pattern of plan.patterns) {
      for (const seed of plan.seeds) {
        for (const { physics, axes } of points) {
          const matrix = matrixFor(physics.pixelSpacingMm, plan.render.lungScale);
          const base = { family, pattern, seed, physics, render: plan.render, ...(matrix ? { matrix } : {}) };
          const key = cacheKey(base);
          cases.push({
            ...base,
            id: `${family}/${pattern}/seed${seed}/${physicsLabel(physics).replace(/ /g, ',')}`,
            axes,
            seriesDir: join(plan.cacheDir, `${family}-${pattern}-s${seed}-${key}`),
            metamorphic: plan.metamorphic && samePhysics(physics, NOMINAL),
          });
        }
      }
    }
  }
  return cases;
}
