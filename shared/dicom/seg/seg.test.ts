import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import dcmjs from 'dcmjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLabelMap } from '../../engines/reference/write-label-map.js';
import { REFERENCE_DESCRIPTOR } from '../../engines/reference/descriptor.js';
import { generatePhantom } from '../../phantom/generate-phantom.js';
import { assembleVolume, type Volume } from '../../volume/assemble-volume.js';
import { readSegFrame, readSegHeader } from './read-seg.js';
import { segFrames } from './write-seg.js';
import { LABEL_CLASSES } from '../../engines/label-classes.js';

const run = promisify(execFile);
let root: string;
let volume: Volume;
let labels: Uint8Array;
let segPath: string;

// 34 × 33 pixels: 1,122 bits per frame, not a multiple of 8, so frames start mid-byte (PS3.5 §8.1.1).
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-seg-'));
  await generatePhantom({ dir: join(root, 'ct'), seed: 3, rows: 33, columns: 34, pixelSpacingMm: 1, slices: 6, sliceThicknessMm: 2 });
  volume = await assembleVolume(join(root, 'ct'));
  const n = volume.width * volume.height;
  labels = new Uint8Array(n * volume.depth);
  // Every class somewhere, slice 4 left empty (its frames must be omitted), a deterministic pattern.
  for (let z = 0; z < volume.depth; z++) {
    if (z === 4) continue;
    for (let i = 0; i < n; i++) labels[z * n + i] = (i * 7 + z * 3) % 11 < 6 ? ((i * 7 + z * 3) % 11) + 1 : 0;
  }
  labels.fill(0, 2 * n, 2 * n + n).fill(6, 2 * n + 100, 2 * n + 140); // slice 2: consolidation only
  segPath = join(root, 'seg.dcm');
  await writeLabelMap(segPath, volume, labels, join(root, 'ct'), REFERENCE_DESCRIPTOR, new Date('2026-12-01T10:00:00Z'));
}, 30_000);
afterAll(async () => rm(root, { recursive: true, force: true }));

/** The class map a SEG's frames describe, placed by each frame's Image Position (Patient). */
function mapFromFrames(frames: readonly { segment: number; position?: readonly number[] }[], pixels: (i: number) => Uint8Array): Uint8Array {
  const n = volume.width * volume.height;
  const out = new Uint8Array(n * volume.depth);
  frames.forEach((f, k) => {
    const z = volume.positions.findIndex((p) => p.every((v, j) => Math.abs(v - f.position![j]!) < 1e-3));
    expect(z).toBeGreaterThanOrEqual(0);
    const px = pixels(k);
    for (let i = 0; i < n; i++) if (px[i]) out[z * n + i] = f.segment;
  });
  return out;
}

describe('DICOM SEG of a label map', () => {
  it('dcmjs reads the SEG back to the same class for every voxel', async () => {
    const buf = await readFile(segPath);
    const dict = dcmjs.data.DicomMessage.readFile(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict) as Record<string, unknown>;
    const n = volume.width * volume.height;
    const bits = new Uint8Array((ds.PixelData as ArrayBuffer[])[0]!);
    const frames = (ds.PerFrameFunctionalGroupsSequence as Record<string, unknown>[]).map((f) => ({
      segment: Number((f.SegmentIdentificationSequence as Record<string, unknown>[])[0]!.ReferencedSegmentNumber),
      position: ((f.PlanePositionSequence as Record<string, unknown>[])[0]!.ImagePositionPatient as number[]).map(Number),
    }));
    const unpack = (k: number) => Uint8Array.from({ length: n }, (_, i) => (bits[(k * n + i) >> 3]! >> ((k * n + i) & 7)) & 1);
    expect(ds.SegmentationType).toBe('BINARY');
    expect(mapFromFrames(frames, unpack)).toEqual(labels);
  });

  it("ildflow's reader gives the same map, frame by frame, and the geometry of the source", async () => {
    const h = await readSegHeader(segPath);
    const frames = await Promise.all(h.frames.map((_, k) => readSegFrame(segPath, h, k)));
    expect(mapFromFrames(h.frames, (k) => frames[k]!)).toEqual(labels);
    expect(h.frameOfReferenceUid).toBe(volume.frameOfReferenceUid);
    expect(h.rows).toBe(33);
    expect(h.columns).toBe(34);
    expect(h.segments.map((s) => s.type?.value)).toEqual(LABEL_CLASSES.map((c) => c.type.value));
  });

  it('writes only the frames that hold a segment', async () => {
    const h = await readSegHeader(segPath);
    const expected = segFrames(labels, volume.width * volume.height, volume.depth, LABEL_CLASSES);
    expect(h.numberOfFrames).toBe(expected.length);
    expect(expected.some((f) => f.z === 4)).toBe(false);
    expect(expected.filter((f) => f.z === 2).map((f) => f.segment)).toEqual([6]);
    const referenced = h.referencedSeries[0]!.sopInstanceUids;
    expect(referenced).not.toContain(volume.sopInstanceUids[4]);
    expect((await stat(segPath)).size % 2).toBe(0);
  });

  it('passes dciodvfy (dicom3tools) with no Error line', async () => {
    const out = await run('dciodvfy', [segPath]).then(
      (r) => ({ code: 0, text: r.stderr + r.stdout }),
      (e: { code: number; stderr: string; stdout: string }) => ({ code: e.code, text: e.stderr + e.stdout }),
    );
    const errors = out.text.split('\n').filter((l) => /^Error/.test(l));
    const warnings = out.text.split('\n').filter((l) => /^Warning/.test(l));
    if (warnings.length) console.info(`dciodvfy warnings on the SEG:\n${warnings.join('\n')}`);
    expect(errors).toEqual([]);
    expect(out.code).toBe(0);
  });
});
