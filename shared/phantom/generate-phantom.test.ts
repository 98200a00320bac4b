import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHANTOM_LABELS, generatePhantom } from './generate-phantom.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-phantom-'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

const opts = { rows: 64, columns: 64, slices: 30, sliceThicknessMm: 5, pixelSpacingMm: 5 } as const;

describe('generatePhantom', () => {
  it('is byte-for-byte deterministic for a seed', async () => {
    const a = await generatePhantom({ dir: join(root, 'a'), pattern: 'uip', seed: 9, ...opts });
    const b = await generatePhantom({ dir: join(root, 'b'), pattern: 'uip', seed: 9, ...opts });
    expect(a.groundTruth).toEqual(b.groundTruth);
    expect(a.seriesInstanceUid).toBe(b.seriesInstanceUid);
    expect(await readFile(a.files[15]!)).toEqual(await readFile(b.files[15]!));
  });

  it('writes ground truth counted from the painted labels', async () => {
    const p = await generatePhantom({ dir: join(root, 'u'), pattern: 'uip', seed: 3, ...opts });
    const g = JSON.parse(await readFile(join(root, 'u', 'ground-truth.json'), 'utf8'));
    expect(g).toEqual(p.groundTruth);
    const e = g.extents;
    expect(e.normal + e.groundGlass + e.reticulation + e.honeycombing + e.emphysema + e.consolidation).toBeCloseTo(100, 0);
    expect(e.honeycombing).toBeGreaterThan(0);
    expect(g.zones.lower.fibrosisPercent).toBeGreaterThan(g.zones.upper.fibrosisPercent);
    expect(g.expectedCategory).toBe('uip');
  });

  it('uses the given identifiers', async () => {
    const p = await generatePhantom({
      dir: join(root, 'ids'), ...opts, slices: 3, seriesInstanceUid: '1.2.3.4', study: { studyInstanceUid: '1.2.3', accessionNumber: 'A1' },
    });
    expect(p.studyInstanceUid).toBe('1.2.3');
    expect(p.seriesInstanceUid).toBe('1.2.3.4');
    expect(p.files).toHaveLength(3);
  });
});

describe('the phantom anatomy', () => {
  it('paints body, airway, both lungs and the disease where the guidelines put it, and varies by seed', async () => {
    const seen = new Set<number>();
    const p = await generatePhantom({
      dir: join(root, 'anat'), pattern: 'nsip', seed: 4, rows: 96, columns: 96, slices: 60, sliceThicknessMm: 2.5, pixelSpacingMm: 3.75,
      onSliceLabels: (_k, labels) => {
        for (const l of labels) seen.add(l);
      },
    });
    for (const l of ['body', 'lung', 'vessel', 'groundGlass', 'consolidation'] as const) expect(seen.has(PHANTOM_LABELS[l]), l).toBe(true);
    expect(seen.has(PHANTOM_LABELS.reticulation)).toBe(false);
    const g = p.groundTruth;
    expect(g.lungs.left.volumeMl).toBeGreaterThan(0.3 * g.lungVolumeMl);
    expect(g.lungs.right.volumeMl).toBeGreaterThan(0.3 * g.lungVolumeMl);
    expect(g.extents.consolidation).toBeGreaterThan(0);
    const other = await generatePhantom({ dir: join(root, 'anat2'), pattern: 'nsip', seed: 5, rows: 96, columns: 96, slices: 60, sliceThicknessMm: 2.5, pixelSpacingMm: 3.75 });
    expect(other.groundTruth.lungVolumeMl).not.toBe(g.lungVolumeMl);
    expect(other.groundTruth.noiseHu).toBeGreaterThanOrEqual(20);
  });
});
