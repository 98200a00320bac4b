import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceHeader } from '../dicom/read-instance.js';
import { generatePhantom, type PhantomResult } from '../phantom/generate-phantom.js';
import { HeadCapture } from './instance-head.js';

let dir: string;
let phantom: PhantomResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ildflow-head-'));
  phantom = await generatePhantom({ dir: join(dir, 'series'), rows: 300, columns: 280, slices: 3, sliceThicknessMm: 2.5, pixelSpacingMm: 1, seed: 3 });
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** Feeds `bytes` to a capture in chunks of `size`, as a network stream would. */
function capture(bytes: Buffer, size: number): HeadCapture {
  const head = new HeadCapture();
  for (let at = 0; at < bytes.length; at += size) head.push(bytes.subarray(at, at + size));
  return head;
}

describe('HeadCapture', () => {
  it('gives the same header the file reader gives, from the first bytes only, however the instance was chunked', async () => {
    const bytes = await readFile(phantom.files[0]!);
    const fromFile = readInstanceHeader(phantom.files[0]!);
    for (const size of [1000, 16 * 1024, 1 << 20]) {
      const known = capture(bytes, size).known();
      expect(known?.header).toEqual(fromFile);
      expect(known?.bytes).toBe(bytes.length);
    }
    // It keeps the prefix only, not the pixels: a 168 kB slice, 64 KiB held.
    expect(capture(bytes, 1000).prefix().length).toBe(64 * 1024);
  });

  it('settles nothing for a cut instance, leaving the verdict to the file reader', async () => {
    const bytes = await readFile(phantom.files[1]!);
    expect(capture(bytes.subarray(0, bytes.length - 100), 4096).known()).toBeNull(); // pixel data cut short
    expect(capture(bytes.subarray(0, 600), 4096).known()).toBeNull(); // the header itself cut
  });
});
