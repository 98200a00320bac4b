import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceHeader, readSliceHu } from '../dicom/read-instance.js';
import { generatePhantom } from '../phantom/generate-phantom.js';
import { decodeToExplicitLittle, transferSyntaxOf } from './transcode.js';

const require = createRequire(import.meta.url);
const codecs = require('dcmjs-codecs') as {
  NativeCodecs: { initializeAsync(): Promise<void> };
  Transcoder: new (b: ArrayBuffer) => { transcode(ts: string): void; getDicomPart10(): ArrayBuffer };
};

describe('decodeToExplicitLittle', () => {
  let dir: string;
  let original: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ildflow-transcode-'));
    original = (await generatePhantom({ dir, rows: 64, columns: 64, slices: 3, shuffleInstanceNumbers: true })).files[1]!;
    await codecs.NativeCodecs.initializeAsync();
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const hu = (path: string) => {
    const h = readInstanceHeader(path);
    const out = new Int16Array(h.rows * h.columns);
    readSliceHu(path, h, out, 0);
    return out;
  };

  it.each([
    ['JPEG Lossless SV1', '1.2.840.10008.1.2.4.70'],
    ['JPEG 2000 Lossless', '1.2.840.10008.1.2.4.90'],
    ['RLE Lossless', '1.2.840.10008.1.2.5'],
  ])('decodes %s to the same HU as the uncompressed original', async (_name, ts) => {
    const bytes = await readFile(original);
    const t = new codecs.Transcoder(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    t.transcode(ts);
    const compressed = join(dir, `c-${ts}.dcm`);
    await writeFile(compressed, new Uint8Array(t.getDicomPart10()));
    expect(transferSyntaxOf(compressed)).toBe(ts);
    expect(() => readInstanceHeader(compressed)).toThrow(/not supported/);
    expect(await decodeToExplicitLittle(compressed)).toBe(ts);
    expect(transferSyntaxOf(compressed)).toBe('1.2.840.10008.1.2.1');
    expect(hu(compressed)).toEqual(hu(original));
  });

  it('leaves an uncompressed file alone', async () => {
    expect(await decodeToExplicitLittle(original)).toBeNull();
  });

  it('refuses a transfer syntax it cannot decode, naming it', async () => {
    const bytes = Buffer.from(await readFile(original));
    const at = bytes.indexOf('1.2.840.10008.1.2.1\0');
    const fake = join(dir, 'mpeg.dcm');
    // An unknown syntax UID of the same length, so the meta group's lengths stay right.
    bytes.write('1.2.840.10008.1.2.9\0', at, 'latin1');
    await writeFile(fake, bytes);
    await expect(decodeToExplicitLittle(fake)).rejects.toThrow(/1\.2\.840\.10008\.1\.2\.9 cannot be decoded/);
  });
});
