/**
 * Compressed pixel data as real archives and CD exports hold it (docs/design.md §5 "The PACS"): ildflow asks
 * every source for Explicit VR Little Endian, but a PACS that cannot transcode sends what it stores, and a
 * folder holds what was exported. Every such file is decoded here, once, in the spool (PACS and folder
 * sources) or in a private copy (`ildflow analyze`), so the rest of the pipeline (the reader, the engines)
 * reads uncompressed little-endian pixels only. This is the one importer of dcmjs-codecs (its WebAssembly
 * codecs: JPEG Baseline and Lossless SV1, JPEG-LS, JPEG 2000 / HTJ2K, RLE; PS3.5 §A.4).
 *
 * Nothing is decoded that cannot be a CT slice: the file's size, then its header's claim (one frame, at most
 * 4096² pixels, 32 MiB decoded: DECODE_LIMITS in read-instance.ts) are checked before a codec runs, so a
 * 10 kB file claiming 512 MiB costs a header read.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { copyFile, readdir, readFile, rename, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import dicomParser from 'dicom-parser';
import { InvalidDicom } from '../errors.js';
import { DECODE_LIMITS, readInstanceHeader } from './read-instance.js';
import { decodableNames, describeTransferSyntax, isDecodable, isNative, TS } from './transfer-syntax.js';

const require = createRequire(import.meta.url);

type Codecs = {
  NativeCodecs: { initializeAsync(opts?: Record<string, unknown>): Promise<void> };
  Transcoder: new (part10: ArrayBuffer) => { transcode(ts: string): void; getDicomPart10(): ArrayBuffer };
  log: { setLevel(level: string): void };
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

/**
 * Rewrites a compressed Part 10 file in place as Explicit VR Little Endian. Returns the transfer syntax
 * it had, or null when it was already uncompressed. Throws InvalidDicom naming the syntax or the claim when
 * it cannot or must not be decoded; nothing is decoded before the file and its header pass DECODE_LIMITS.
 */
export async function decodeToExplicitLittle(path: string): Promise<string | null> {
  const ts = transferSyntaxOf(path);
  if (isNative(ts)) return null;
  const name = describeTransferSyntax(ts);
  if (!isDecodable(ts))
    throw new InvalidDicom(
      `transfer syntax ${ts} cannot be decoded (${name}; supported: uncompressed, ${decodableNames().join(', ')}); ask the PACS for Explicit VR Little Endian`,
    );
  const size = (await stat(path)).size;
  if (size > DECODE_LIMITS.fileBytes)
    throw new InvalidDicom(`the ${name} file is ${size} bytes, more than the ${DECODE_LIMITS.fileBytes} a compressed CT slice may take: refused before decoding`);
  // The header alone (a few kB read), with every check the reader makes, before the whole file is read.
  readInstanceHeader(path, { encapsulated: true });
  const bytes = await readFile(path);
  checkFragments(bytes, ts, name);
  const c = await loadCodecs();
  let out: ArrayBuffer;
  try {
    const t = new c.Transcoder(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    t.transcode(TS.explicitLittle);
    out = t.getDicomPart10();
  } catch (err) {
    throw new InvalidDicom(`${name} pixel data could not be decoded (${err instanceof Error ? err.message : String(err)})`.slice(0, 300));
  }
  // Write beside and rename: a crash mid-write never leaves a half-decoded file under the final name.
  await writeFile(`${path}.decoding`, new Uint8Array(out));
  await rename(`${path}.decoding`, path);
  return ts;
}

/**
 * What the codecs would otherwise trust in the fragments, checked before they run: that there are any, and
 * for RLE each frame's segment table (PS3.5 G.3.1), because the codec decodes a segment that starts past the
 * end of its fragment as silent zeros rather than failing.
 */
function checkFragments(bytes: Uint8Array, ts: string, name: string): void {
  let ds;
  try {
    ds = dicomParser.parseDicom(bytes as never);
  } catch {
    throw new InvalidDicom(`${name} data set cannot be parsed: it is truncated or an element length runs past the end of the file`, { kind: 'damaged' });
  }
  const pixel = ds.elements.x7fe00010;
  if (!pixel?.fragments?.length) throw new InvalidDicom(`${name} pixel data has no fragments`);
  if (ts !== TS.rleLossless) return;
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

export type DecodedSeries = Readonly<{ dir: string; decoded: number; refused: readonly Readonly<{ file: string; reason: string }>[] }>;

/**
 * A series folder with its compressed files decoded, for `ildflow analyze DIR` (which must never write the
 * user's folder): when nothing in `dir` is compressed, `dir` itself; otherwise `work` (an empty folder)
 * holding a decoded copy of each compressed file and a link to every other. Files the decoder refuses are
 * listed with the reason, not copied. Top level only, as scanSeriesDir reads.
 */
export async function decodedSeries(dir: string, work: string): Promise<DecodedSeries> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
  const compressed = new Set(entries.filter((name) => !isNative(transferSyntaxOrNull(join(dir, name)) ?? TS.explicitLittle)));
  if (compressed.size === 0) return { dir, decoded: 0, refused: [] };
  const refused: { file: string; reason: string }[] = [];
  for (const name of entries) {
    const from = join(dir, name);
    const to = join(work, name);
    if (!compressed.has(name)) {
      await symlink(resolve(from), to);
      continue;
    }
    await copyFile(from, to);
    try {
      await decodeToExplicitLittle(to);
    } catch (err) {
      if (!(err instanceof InvalidDicom)) throw err;
      await unlink(to);
      refused.push({ file: name, reason: err.detail });
    }
  }
  return { dir: work, decoded: compressed.size - refused.length, refused };
}

/** transferSyntaxOf, or null for a file that is not Part 10 or whose file meta cannot be read. */
export function transferSyntaxOrNull(path: string): string | null {
  try {
    return transferSyntaxOf(path);
  } catch {
    return null; // not DICOM, or no readable file meta: the series check names what the reader makes of it
  }
}
