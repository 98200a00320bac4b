import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanSeriesDir, type InstanceHeader } from '../dicom/read-instance.js';
import { readSegHeader, type SegHeader } from '../dicom/seg/read-seg.js';
import { generatePhantom } from '../phantom/generate-phantom.js';
import { assembleVolume } from '../volume/assemble-volume.js';
import { REFERENCE_DESCRIPTOR } from './reference/descriptor.js';
import { writeLabelMap } from './reference/write-label-map.js';
import { checkLabelMap } from './label-map-check.js';

let root: string;
let seg: SegHeader;
let series: InstanceHeader[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-segcheck-'));
  await generatePhantom({ dir: join(root, 'ct'), seed: 2, rows: 32, columns: 32, pixelSpacingMm: 1, slices: 4, sliceThicknessMm: 2 });
  const volume = await assembleVolume(join(root, 'ct'));
  const labels = new Uint8Array(32 * 32 * 4);
  labels.fill(2, 0, 100).fill(6, 32 * 32 * 3, 32 * 32 * 3 + 50);
  await writeLabelMap(join(root, 'seg.dcm'), volume, labels, join(root, 'ct'), REFERENCE_DESCRIPTOR, new Date());
  seg = await readSegHeader(join(root, 'seg.dcm'));
  series = (await scanSeriesDir(join(root, 'ct'))).instances.map((i) => i.header);
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('checkLabelMap', () => {
  it('accepts a SEG that fits the series, naming its classes and the slice of each frame', () => {
    const fit = checkLabelMap(seg, series);
    expect(fit).toMatchObject({ ok: true, segments: [{ number: 2, key: 'groundGlass' }, { number: 6, key: 'consolidation' }] });
    expect(fit.ok && fit.frameSops.every((u) => series.some((h) => h.sopInstanceUid === u))).toBe(true);
  });

  const frame0 = () => seg.frames[0]!;
  it.each<[string, () => SegHeader, RegExp]>([
    ['another SOP class', () => ({ ...seg, sopClassUid: '1.2.840.10008.5.1.4.1.1.2' }), /not a DICOM Segmentation/],
    ['a FRACTIONAL segmentation', () => ({ ...seg, segmentationType: 'FRACTIONAL' }), /only BINARY/],
    ['another size', () => ({ ...seg, rows: 64 }), /32 × 64 pixels, the series 32 × 32/],
    ['another Frame of Reference', () => ({ ...seg, frameOfReferenceUid: '2.25.9' }), /Frame of Reference UID/],
    ['another study', () => ({ ...seg, studyInstanceUid: '2.25.8' }), /another study/],
    ['a frame count that disagrees', () => ({ ...seg, numberOfFrames: seg.numberOfFrames + 1 }), /declares/],
    ['a segment outside the vocabulary', () => ({ ...seg, segments: [{ number: 2, label: 'x', type: { value: '4147007', scheme: 'SCT', meaning: 'Mass' } }, seg.segments[1]!] }), /segment 2 \(SCT 4147007 "Mass"\) is not one of ildflow's classes/],
    ['a frame between slices', () => ({ ...seg, frames: [{ ...frame0(), position: [0, 0, 1234] }, ...seg.frames.slice(1)] }), /on none of the series' slices/],
    ['a tilted frame', () => ({ ...seg, frames: [{ ...frame0(), orientation: [1, 0, 0, 0, 0.9, 0.1] }, ...seg.frames.slice(1)] }), /orientation is not the series'/],
    ['a source image outside the input', () => ({ ...seg, frames: [{ ...frame0(), sourceSopInstanceUids: ['2.25.7'] }, ...seg.frames.slice(1)] }), /not in the input series/],
    ['a referenced instance outside the input', () => ({ ...seg, referencedSeries: [{ seriesInstanceUid: series[0]!.seriesInstanceUid, sopInstanceUids: ['2.25.6'] }] }), /references images that are not in the input/],
    ['a frame repeated', () => ({ ...seg, numberOfFrames: seg.numberOfFrames + 1, frames: [...seg.frames, frame0()] }), /repeats segment/],
  ])('refuses %s, with the reason', (_, make, reason) => {
    const fit = checkLabelMap(make(), series);
    expect(fit.ok).toBe(false);
    expect(!fit.ok && fit.reason).toMatch(reason);
  });
});
