import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_CLASSES } from '../engines/label-classes.js';
import { assembleVolume, type Volume } from '../volume/assemble-volume.js';
import { phantomWithTruthLabelMap, type TruthLabelMap } from '../../tools/phantom/truth-label-map.js';
import { createSeriesViewerCache, type ViewerSource } from './series-viewer.js';

const R = 48, C = 48, Z = 12;

describe('the series viewer on a real series and SEG (a phantom with its truth as the label map)', () => {
  let work: string;
  let truth: TruthLabelMap;
  let volume: Volume;
  let src: ViewerSource;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-viewer-'));
    const dir = join(work, 'series');
    truth = await phantomWithTruthLabelMap({ dir, pattern: 'uip', seed: 2, rows: R, columns: C, slices: Z, sliceThicknessMm: 2.5, shuffleInstanceNumbers: true }, join(work, 'seg.dcm'));
    volume = await assembleVolume(dir);
    src = { key: 'case-1', seriesDir: dir, labelMap: { path: join(work, 'seg.dcm'), segments: truth.segments } };
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it('orders the slices as the engine does and reads each as the volume holds it', async () => {
    const cache = createSeriesViewerCache(64 * 1024 * 1024);
    const v = await cache.viewer(src);
    expect(v.series.sopInstanceUids).toEqual(volume.sopInstanceUids);
    for (let z = 0; z < Z; z++) expect(await cache.pixels(src, z)).toEqual(volume.hu.slice(z * R * C, (z + 1) * R * C));
  });

  it('gives back the class map the SEG was written from, slice by slice, and counts each class per slice', async () => {
    const cache = createSeriesViewerCache(64 * 1024 * 1024);
    const { labelMap } = await cache.viewer(src);
    for (let z = 0; z < Z; z++) {
      const expected = truth.classMap.subarray(z * R * C, (z + 1) * R * C);
      expect(await cache.labels(src, z)).toEqual(expected);
      expect(labelMap!.classCounts[z]).toEqual(LABEL_CLASSES.map((c) => expected.filter((v) => v === c.segmentNumber).length));
    }
    expect(labelMap!.classCounts.flat().reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('never holds more than its byte budget, however many slices are read', async () => {
    const budget = 3 * R * C * 2 + 200_000; // the index and about three slices
    const cache = createSeriesViewerCache(budget);
    for (let round = 0; round < 2; round++)
      for (let z = 0; z < Z; z++) {
        await cache.pixels(src, z);
        await cache.labels(src, z);
        expect(cache.bytes()).toBeLessThanOrEqual(budget);
      }
  });

  it('indexes a case once for concurrent first reads', async () => {
    const cache = createSeriesViewerCache(64 * 1024 * 1024);
    const [a, b] = await Promise.all([cache.viewer(src), cache.viewer(src)]);
    expect(a).toBe(b);
  });
});
