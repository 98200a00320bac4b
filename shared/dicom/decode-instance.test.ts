import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceHeader, readSliceHu } from './read-instance.js';
import { generatePhantom } from '../phantom/generate-phantom.js';
import { encapsulated, setUs, sliceFile, str, t, TAG, type Element } from '../../test/fixtures/hostile/corpus.js';
import { InvalidDicom } from '../errors.js';
import { DECODE_LIMITS } from './read-instance.js';
import { TS } from './transfer-syntax.js';
import { decodeToExplicitLittle, transferSyntaxOf } from './decode-instance.js';

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
    expect(() => readInstanceHeader(compressed)).toThrow(/is compressed/);
    const { pixelDataOffset: _o, pixelDataLength: _l, transferSyntaxUid, ...geometry } = readInstanceHeader(compressed, { encapsulated: true });
    expect(transferSyntaxUid).toBe(ts);
    expect(geometry).toEqual((({ pixelDataOffset: _a, pixelDataLength: _b, transferSyntaxUid: _c, ...g }) => g)(readInstanceHeader(original)));
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

  /** A CT slice header in `ts` with encapsulated pixel data of one tiny fragment per frame (never decodable). */
  type Claim = Readonly<{ rows: number; columns: number; frames?: number; bits?: number }>;
  const claiming = (o: Claim, ts: string = TS.jpegLsLossless) =>
    sliceFile(
      { patientId: 'P', studyInstanceUid: '2.25.1', seriesInstanceUid: '2.25.2', sopInstanceUid: '2.25.3', frameOfReferenceUid: '2.25.4', index: 0 },
      (els) => {
        const sized = setUs(TAG.bitsAllocated, o.bits ?? 16)(setUs(TAG.columns, o.columns)(setUs(TAG.rows, o.rows)(els)));
        const at = sized.findIndex((e) => e.tag === TAG.rows);
        const frames: Element[] = o.frames === undefined ? [] : [{ tag: t(0x28, 8), vr: 'IS', value: str('IS', String(o.frames)) }];
        return [...sized.slice(0, at), ...frames, ...sized.slice(at, -1), encapsulated(Array.from({ length: o.frames ?? 1 }, () => new Uint8Array(8)))];
      },
      ts,
    );

  const refusal = async (bytes: Uint8Array, name: string): Promise<InvalidDicom> => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    const err = await decodeToExplicitLittle(path).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidDicom);
    expect((err as InvalidDicom).kind).toBe('unusable');
    return err as InvalidDicom;
  };

  it.each<[string, Claim, RegExp]>([
    ['16 frames of 4096²', { rows: 4096, columns: 4096, frames: 16 }, /JPEG-LS Lossless pixel data holds 16 frames, and a CT slice is 1 frame .*refused from the header, before decoding/],
    ['2 frames of 512²', { rows: 512, columns: 512, frames: 2 }, /holds 2 frames/],
    ['one 4096² frame of 32-bit samples (64 MiB)', { rows: 4096, columns: 4096, bits: 32 }, /would decode to 64 MiB \(4096×4096 × 1 frame\(s\) × 1 sample\(s\) × 32 bits\), over the 32 MiB cap/],
    ['8192 × 512 pixels', { rows: 8192, columns: 512 }, /image size 8192×512 is outside 1…4096; the JPEG-LS Lossless pixel data was not decoded/],
  ])('refuses from the header alone, naming the claim: %s', async (_name, claim, reason) => {
    const err = await refusal(claiming(claim), `claim-${claim.rows}-${claim.frames ?? 1}-${claim.bits ?? 16}.dcm`);
    expect(err.detail).toMatch(reason);
    // The reader says the same when asked for the header of an encapsulated file.
    expect(() => readInstanceHeader(claiming(claim), { encapsulated: true })).toThrow(reason);
  });

  it('refuses a compressed file above the file-size cap before reading it', async () => {
    const path = join(dir, 'huge.dcm');
    await writeFile(path, claiming({ rows: 512, columns: 512 }));
    await truncate(path, DECODE_LIMITS.fileBytes + 1); // sparse: nothing is written
    const err = await decodeToExplicitLittle(path).then(() => null, (e: unknown) => e);
    expect((err as InvalidDicom).detail).toMatch(/JPEG-LS Lossless file is 67108865 bytes, more than the 67108864 a compressed CT slice may take: refused before decoding/);
  });

  it('names a compressed syntax it has no codec for', async () => {
    const err = await refusal(claiming({ rows: 512, columns: 512 }, TS.jpegExtended), 'extended.dcm');
    expect(err.detail).toMatch(/transfer syntax 1\.2\.840\.10008\.1\.2\.4\.51 cannot be decoded \(JPEG Extended \(Process 2 & 4\); supported: uncompressed, RLE Lossless, JPEG Baseline/);
  });
});
