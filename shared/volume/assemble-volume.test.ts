import { copyFile, mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidDicom } from '../errors.js';
import { readInstanceHeader, readSliceHu } from '../dicom/read-instance.js';
import { generatePhantom, type PhantomResult } from '../phantom/generate-phantom.js';
import { assembleVolume, summarizeSeries } from './assemble-volume.js';

let root: string;
let shuffled: PhantomResult;
const small = { rows: 40, columns: 36, pixelSpacingMm: 8, sliceThicknessMm: 2 } as const;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-volume-'));
  shuffled = await generatePhantom({ dir: join(root, 'shuffled'), ...small, slices: 12, seed: 5, shuffleInstanceNumbers: true });
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('assembleVolume', () => {
  it('orders slices by position along the normal, not by InstanceNumber', async () => {
    const v = await assembleVolume(join(root, 'shuffled'));
    expect([v.width, v.height, v.depth]).toEqual([36, 40, 12]);
    const zs = v.positions.map((p) => p[2]);
    expect(zs).toEqual([...zs].sort((a, b) => b - a)); // cranial (highest z) first
    expect(v.instanceNumbers).not.toEqual([...v.instanceNumbers].sort((a, b) => a! - b!)); // really shuffled
    expect(v.sliceSpacingMm).toBeCloseTo(2);
    // Each slice of the volume is the file whose SOP Instance UID is listed at that index.
    const byUid = new Map(shuffled.files.map((f) => [readInstanceHeader(f).sopInstanceUid, f]));
    for (const z of [0, 5, 11]) {
      const file = byUid.get(v.sopInstanceUids[z]!)!;
      const expected = new Int16Array(36 * 40);
      readSliceHu(file, readInstanceHeader(file), expected, 0);
      expect(v.hu.subarray(z * 36 * 40, (z + 1) * 36 * 40)).toEqual(expected);
      expect(readInstanceHeader(file).imagePositionPatient[2]).toBeCloseTo(zs[z]!);
    }
    expect(v.summary).toMatchObject({ sliceCount: 12, sliceThicknessMm: 2, coverageMm: 24, spacingVariation: 0, modality: 'CT' });
    expect(v.warnings).toEqual(['1 non-image file(s) in the series folder were skipped']); // ground-truth.json
  });

  it('reports a gap where a slice is missing', async () => {
    const d = join(root, 'gap');
    const p = await generatePhantom({ dir: d, ...small, slices: 8, seed: 6 });
    await unlink(p.files[4]!);
    const v = await assembleVolume(d);
    expect(v.depth).toBe(7);
    expect(v.summary.spacingVariation).toBeCloseTo(1);
    expect(v.warnings.join(' ')).toMatch(/gaps between slices: 4 mm after slice 4/);
  });

  it('refuses duplicate positions', async () => {
    const d = join(root, 'dup');
    const p = await generatePhantom({ dir: d, ...small, slices: 5, seed: 7 });
    await copyFile(p.files[2]!, join(d, 'again.dcm'));
    await expect(assembleVolume(d)).rejects.toThrow(/shares a position with another slice/);
  });

  it('refuses a folder holding two series', async () => {
    const d = join(root, 'two');
    await generatePhantom({ dir: d, ...small, slices: 3, seed: 8 });
    const other = await generatePhantom({ dir: join(root, 'other'), ...small, slices: 3, seed: 9 });
    await copyFile(other.files[0]!, join(d, 'other.dcm'));
    const err = await assembleVolume(d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidDicom);
    expect((err as InvalidDicom).detail).toMatch(/holds 2 series, not one; slices belong to different frames of reference/);
  });

  it('refuses a folder with no DICOM images, saying what was skipped', async () => {
    const d = join(root, 'empty');
    await generatePhantom({ dir: d, ...small, slices: 3, seed: 10 });
    for (const f of await readdir(d)) if (f.endsWith('.dcm')) await unlink(join(d, f));
    await expect(assembleVolume(d)).rejects.toThrow(/no readable DICOM images \(1 file\(s\) skipped — ground-truth\.json: not a DICOM/);
  });
});

describe('summarizeSeries', () => {
  it('summarises coverage from the outer faces of the end slices, in any file order', () => {
    const headers = shuffled.files.map((f) => readInstanceHeader(f)).reverse();
    expect(summarizeSeries(headers)).toMatchObject({
      sliceCount: 12, sliceThicknessMm: 2, spacingBetweenSlicesMm: 2, coverageMm: 24, pixelSpacingMm: [8, 8], convolutionKernel: 'LUNG',
    });
  });
});
