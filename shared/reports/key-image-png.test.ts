import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE_DESCRIPTOR } from '../engines/reference/descriptor.js';
import { writeLabelMap } from '../engines/reference/write-label-map.js';
import { generatePhantom } from '../phantom/generate-phantom.js';
import { assembleVolume, type Volume } from '../volume/assemble-volume.js';
import { renderKeyImages } from './key-image-png.js';
import { isConsolidation, isGrey as grey, pngPixels } from '../../test/helpers/png-pixels.js';

let root: string;
let volume: Volume;
const Z = 3;
const inBlock = (i: number, w: number) => i % w >= 10 && i % w < 20 && Math.floor(i / w) >= 12 && Math.floor(i / w) < 22;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-keyimg-'));
  await generatePhantom({ dir: join(root, 'ct'), seed: 6, rows: 40, columns: 40, pixelSpacingMm: 1, slices: 6, sliceThicknessMm: 2 });
  volume = await assembleVolume(join(root, 'ct'));
  const n = 40 * 40;
  // An engine whose map calls a block of slice 3 consolidation, and all of slice 1 normal lung.
  const labels = new Uint8Array(n * volume.depth);
  for (let i = 0; i < n; i++) if (inBlock(i, 40)) labels[Z * n + i] = 6;
  labels.fill(1, n, 2 * n);
  await writeLabelMap(join(root, 'seg.dcm'), volume, labels, join(root, 'ct'), REFERENCE_DESCRIPTOR, new Date());
}, 30_000);
afterAll(async () => rm(root, { recursive: true, force: true }));

const key = (z: number) => ({ sopInstanceUid: volume.sopInstanceUids[z]!, sliceIndex: z, zone: 'middle' as const, reason: 'test' });

describe('key images', () => {
  it("colour exactly the pixels the engine's label map classes, in the class's colour (consolidation here)", async () => {
    const map = { path: join(root, 'seg.dcm'), segments: [{ number: 1, key: 'normal' }, { number: 6, key: 'consolidation' }] };
    const { rendered } = await renderKeyImages(join(root, 'ct'), [key(Z), key(1)], map);
    const { width, rgb } = pngPixels(rendered[0]!.png);
    const wrong = Array.from({ length: width * width }, (_, i) => i).filter((i) => (inBlock(i, width) ? !isConsolidation(rgb, i) : !grey(rgb, i)));
    expect(wrong).toEqual([]);
    // Normal lung is not coloured.
    const normal = pngPixels(rendered[1]!.png);
    expect(Array.from({ length: 1600 }, (_, i) => grey(normal.rgb, i)).every(Boolean)).toBe(true);
  });

  it('draws no overlay without a label map', async () => {
    const { rendered } = await renderKeyImages(join(root, 'ct'), [key(Z)]);
    const { rgb } = pngPixels(rendered[0]!.png);
    expect(Array.from({ length: 1600 }, (_, i) => grey(rgb, i)).every(Boolean)).toBe(true);
  });
});
