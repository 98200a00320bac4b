/**
 * Compressed pixel data as it arrives from real archives (docs/design.md §5 "The PACS"): ildflow asks every
 * source for Explicit VR Little Endian, but a PACS that cannot transcode sends what it stores. Such files
 * are decoded here, once, on arrival in the spool, so the rest of the pipeline (shared/dicom, the engine)
 * reads uncompressed little-endian pixels only. This is the one importer of dcmjs-codecs (its WebAssembly
 * codecs: JPEG Lossless, JPEG-LS, JPEG 2000 / HTJ2K, RLE).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import dicomParser from 'dicom-parser';
import { InvalidDicom } from '../errors.js';

const require = createRequire(import.meta.url);

type Codecs = {
  NativeCodecs: { initializeAsync(opts?: Record<string, unknown>): Promise<void> };
  Transcoder: new (part10: ArrayBuffer) => { transcode(ts: string): void; getDicomPart10(): ArrayBuffer };
  log: { setLevel(level: string): void };
};

export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_VR_LE = '1.2.840.10008.1.2';

/** Transfer syntaxes the codecs decode (PS3.5 §10 and Annex A; PS3.6 Annex A for the UIDs). */
const DECODABLE: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2.5': 'RLE Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
};

let codecs: Promise<Codecs> | null = null;

/** Loads the WebAssembly codecs once per process, on the first compressed file. */
function loadCodecs(): Promise<Codecs> {
  codecs ??= (async () => {
    const c = require('dcmjs-codecs') as Codecs;
    c.log.setLevel('warn');
    await c.NativeCodecs.initializeAsync();
    return c;
  })();
  return codecs;
}

/** The Transfer Syntax UID (0002,0010) of a Part 10 file, read from its first bytes only. */
export function transferSyntaxOf(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const probe = new Uint8Array(16 * 1024);
    const n = readSync(fd, probe, 0, probe.length, 0);
    if (n < 132 || String.fromCharCode(probe[128]!, probe[129]!, probe[130]!, probe[131]!) !== 'DICM')
      throw new InvalidDicom('not a DICOM Part 10 file: no "DICM" prefix at byte 128 (PS3.10 §7.1)', { kind: 'damaged' });
    let meta;
    try {
      meta = dicomParser.readPart10Header(probe.subarray(0, n) as never);
    } catch {
      throw new InvalidDicom('DICOM file meta information cannot be parsed', { kind: 'damaged' });
    }
    const ts = meta.string('x00020010')?.replace(/\0/g, '').trim();
    if (!ts) throw new InvalidDicom('file meta information has no Transfer Syntax UID (0002,0010)');
    return ts;
  } finally {
    closeSync(fd);
  }
}

export function isUncompressed(ts: string): boolean {
  return ts === EXPLICIT_VR_LE || ts === IMPLICIT_VR_LE;
}

/**
 * Rewrites a compressed Part 10 file in place as Explicit VR Little Endian. Returns the transfer syntax
 * it had, or null when it was already uncompressed. Throws InvalidDicom naming the syntax when it cannot be
 * decoded (e.g. JPEG Baseline, whose 8 bits cannot carry CT's 12–16-bit values).
 */
export async function decodeToExplicitLittle(path: string): Promise<string | null> {
  const ts = transferSyntaxOf(path);
  if (isUncompressed(ts)) return null;
  const name = DECODABLE[ts];
  if (!name)
    throw new InvalidDicom(
      `transfer syntax ${ts} cannot be decoded (supported: uncompressed, ${Object.values(DECODABLE).join(', ')}); ask the PACS for Explicit VR Little Endian`,
    );
  const bytes = await readFile(path);
  checkBeforeDecode(bytes, ts, name);
  const c = await loadCodecs();
  let out: ArrayBuffer;
  try {
    const t = new c.Transcoder(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    t.transcode(EXPLICIT_VR_LE);
    out = t.getDicomPart10();
  } catch (err) {
    throw new InvalidDicom(`${name} pixel data could not be decoded (${err instanceof Error ? err.message : String(err)})`.slice(0, 300));
  }
  // Write beside and rename: a crash mid-write never leaves a half-decoded file under the final name.
  await writeFile(`${path}.decoding`, new Uint8Array(out));
  await rename(`${path}.decoding`, path);
  return ts;
}

/** The largest image side and frame count read-instance.ts accepts (its MAX_DIMENSION / MAX_FRAMES). */
const MAX_SIDE = 4096;
const MAX_FRAMES = 4096;
const RLE = '1.2.840.10008.1.2.5';

/**
 * What the decoder would otherwise trust, checked before it runs (docs/design.md §6: sizes are checked before
 * anything is allocated): the image size, and for RLE each frame's segment table (PS3.5 G.3.1), because the
 * codec decodes a segment that starts past the end of its fragment as silent zeros rather than failing.
 */
function checkBeforeDecode(bytes: Uint8Array, ts: string, name: string): void {
  let ds;
  try {
    ds = dicomParser.parseDicom(bytes as never);
  } catch {
    throw new InvalidDicom(`${name} data set cannot be parsed: it is truncated or an element length runs past the end of the file`, { kind: 'damaged' });
  }
  const rows = ds.uint16('x00280010') ?? 0;
  const columns = ds.uint16('x00280011') ?? 0;
  const frames = Number(ds.string('x00280008')?.trim() || '1');
  if (rows < 1 || columns < 1 || rows > MAX_SIDE || columns > MAX_SIDE)
    throw new InvalidDicom(`image size ${rows}×${columns} is outside 1…${MAX_SIDE}; the ${name} pixel data was not decoded`);
  if (!Number.isInteger(frames) || frames < 1 || frames > MAX_FRAMES) throw new InvalidDicom(`number of frames ${frames} is not within 1…${MAX_FRAMES}`);
  const pixel = ds.elements.x7fe00010;
  if (!pixel?.fragments?.length) throw new InvalidDicom(`${name} pixel data has no fragments`);
  if (ts !== RLE) return;
  const samples = (ds.uint16('x00280002') ?? 1) * ((ds.uint16('x00280100') ?? 16) / 8);
  for (const [f, frag] of pixel.fragments.entries()) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + frag.position, frag.length);
    const segments = frag.length >= 64 ? view.getUint32(0, true) : 0;
    if (segments !== samples) throw new InvalidDicom(`RLE Lossless pixel data is broken: frame ${f + 1} has ${segments} segments, ${samples} expected (PS3.5 G.3.1)`);
    let previous = 63;
    for (let i = 0; i < segments; i++) {
      const offset = view.getUint32(4 + 4 * i, true);
      if (offset <= previous || offset >= frag.length)
        throw new InvalidDicom(`RLE Lossless pixel data is broken: frame ${f + 1}, segment ${i + 1} starts at byte ${offset} of a ${frag.length}-byte fragment (PS3.5 G.3.1)`);
      previous = offset;
    }
  }
}
