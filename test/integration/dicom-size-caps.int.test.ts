/**
 * Size caps on untrusted DICOM (issue 11, F5; docs/design.md §6): the header reader reads in bounded steps up to
 * MAX_HEADER_BYTES and never the whole file, however large the elements before the pixel data claim to be;
 * WADO-RS parts and C-STORE instances above the per-instance cap (ILDFLOW_MAX_INSTANCE_BYTES) are refused
 * with a clear, permanent error and leave no partial file behind. Peak RSS is measured around each read.
 */
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, readInstanceHeader } from '../../shared/dicom/read-instance.js';
import { InvalidDicom } from '../../shared/errors.js';
import { createDicomWebSource } from '../../shared/pacs/dicomweb-source.js';
import { createDimseSource } from '../../shared/pacs/dimse-source.js';
import { verifySpool } from '../../shared/pacs/verify-spool.js';
import { generatePhantom, type PhantomResult } from '../../shared/phantom/generate-phantom.js';
import { ctSlice, part10, CT_IMAGE, type Element } from '../fixtures/hostile/corpus.js';
import { freePort, isOrthancInstalled, startOrthanc, type Orthanc } from '../helpers/orthanc.js';

const MiB = 1024 * 1024;
/** Peak resident set of this process so far, in bytes (getrusage ru_maxrss). */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

let work: string;
beforeAll(async () => void (work = await mkdtemp(join(tmpdir(), 'ildflow-caps-'))));
afterAll(async () => rm(work, { recursive: true, force: true }));

/**
 * A valid CT slice with a private OB element of `bytes` before the pixel data, written sparse: the file is
 * that large, but writing it costs nothing.
 */
async function sliceWithPrivateElement(path: string, bytes: number): Promise<void> {
  const ids = { patientId: 'MRN-CAPS', studyInstanceUid: '2.25.71', seriesInstanceUid: '2.25.72', sopInstanceUid: '2.25.73', frameOfReferenceUid: '2.25.74', index: 0 };
  const els = ctSlice(ids);
  const PRIVATE = 0x00091010;
  const meta = { sopClassUid: CT_IMAGE, sopInstanceUid: ids.sopInstanceUid };
  const before = part10([...els.filter((e) => e.tag < PRIVATE), { tag: PRIVATE, vr: 'OB', value: new Uint8Array(0), length: bytes } as Element], meta);
  const after = part10(els.filter((e) => e.tag > PRIVATE), meta).subarray(part10([], meta).length);
  await writeFile(path, before);
  const fh = await open(path, 'r+');
  try {
    await fh.write(after, 0, after.length, before.length + bytes);
  } finally {
    await fh.close();
  }
}

describe('the header reader', () => {
  it('refuses a 400 MB element before the pixel data from at most MAX_HEADER_BYTES, without reading the file', async () => {
    const path = join(work, 'huge-private.dcm');
    await sliceWithPrivateElement(path, 400 * 1000 * 1000);
    const peakBefore = peakRss();
    let err: unknown;
    try {
      readInstanceHeader(path);
    } catch (e) {
      err = e;
    }
    const grew = peakRss() - peakBefore;
    console.log(`peak RSS before ${(peakBefore / MiB).toFixed(0)} MiB, after ${(peakRss() / MiB).toFixed(0)} MiB (grew ${(grew / MiB).toFixed(1)} MiB)`);
    expect(err).toBeInstanceOf(InvalidDicom);
    expect((err as InvalidDicom).detail).toMatch(new RegExp(`longer than ${MAX_HEADER_BYTES / MiB} MiB`));
    expect(grew).toBeLessThan(2 * MAX_HEADER_BYTES + 16 * MiB);
  });

  it('still reads a header longer than the first probe (a 200 kB private element)', async () => {
    const path = join(work, 'long-private.dcm');
    await sliceWithPrivateElement(path, 200 * 1000);
    expect(readInstanceHeader(path)).toMatchObject({ rows: 32, columns: 32, sopInstanceUid: '2.25.73' });
  });
});

/** A valid CT slice with a private sequence nested `depth` deep (undefined lengths, PS3.5 §7.5) before the pixel data. */
function sliceWithDeepSequence(depth: number): Uint8Array {
  const ids = { patientId: 'MRN-DEEP', studyInstanceUid: '2.25.81', seriesInstanceUid: '2.25.82', sopInstanceUid: '2.25.83', frameOfReferenceUid: '2.25.84', index: 0 };
  const els = ctSlice(ids);
  const PRIVATE = 0x00091010;
  const meta = { sopClassUid: CT_IMAGE, sopInstanceUid: ids.sopInstanceUid };
  const open = Buffer.from([0x09, 0x00, 0x10, 0x10, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
  const close = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  const before = part10(els.filter((e) => e.tag < PRIVATE), meta);
  const after = part10(els.filter((e) => e.tag > PRIVATE), meta).subarray(part10([], meta).length);
  return Buffer.concat([before, Buffer.alloc(open.length * depth, open), Buffer.alloc(close.length * depth, close), after]);
}

describe('sequence nesting', () => {
  it('refuses a 50,000-deep sequence for good, as unusable DICOM, not as transfer damage to retry (issue 11, F13)', async () => {
    const dir = await mkdtemp(join(work, 'deep-'));
    await writeFile(join(dir, 'deep.dcm'), sliceWithDeepSequence(50_000));
    const err = await verifySpool(dir, { studyInstanceUid: '2.25.81', seriesInstanceUid: '2.25.82' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(InvalidDicom);
    expect((err as InvalidDicom).detail).toMatch(/nested too deeply/);
    expect((err as InvalidDicom).detail).not.toMatch(/truncated/);
  });

  it('still reads a slice with a few nested sequences', () => {
    const path = join(work, 'nested.dcm');
    return writeFile(path, sliceWithDeepSequence(8)).then(() => expect(readInstanceHeader(path).sopInstanceUid).toBe('2.25.83'));
  });
});

describe.skipIf(!isOrthancInstalled())('the per-instance cap over WADO-RS, C-GET and C-MOVE (real Orthanc)', () => {
  let orthanc: Orthanc;
  let phantom: PhantomResult;
  let scpPort: number;
  let move: ReturnType<typeof createDimseSource> | undefined;
  const retry = { attempts: 1, delayMs: 10 };
  const CAP = 64 * 1024; // below the 128 kB of a 256×256 slice

  beforeAll(async () => {
    scpPort = await freePort();
    orthanc = await startOrthanc({ modalities: { ILDFLOW: ['ILDFLOW', '127.0.0.1', scpPort] } });
    phantom = await generatePhantom({ dir: join(work, 'series'), pattern: 'normal', seed: 77, rows: 256, columns: 256, slices: 3, patient: { id: 'MRN-CAPS-PACS' } });
    orthanc.storescu(phantom.files);
  });
  afterAll(async () => {
    await move?.close();
    await orthanc?.close();
  });

  const sources = () => ({
    'WADO-RS': createDicomWebSource(orthanc.dicomWebUrl, { auth: orthanc.auth, retry, maxInstanceBytes: CAP }),
    'C-GET': createDimseSource(`dicom://ORTHANC@127.0.0.1:${orthanc.dicomPort}?retrieve=c-get&calling=ILDFLOW`, { retry, maxInstanceBytes: CAP }),
    'C-MOVE': (move ??= createDimseSource(`dicom://ORTHANC@127.0.0.1:${orthanc.dicomPort}?retrieve=c-move&calling=ILDFLOW&port=${scpPort}`, { retry, maxInstanceBytes: CAP })),
  });

  it.each(['WADO-RS', 'C-GET', 'C-MOVE'] as const)('refuses over %s an instance above the cap, permanently, leaving no file', async (name) => {
    const dest = await mkdtemp(join(work, `dest-${name}-`));
    const peakBefore = peakRss();
    const err = await sources()[name].retrieveSeries(phantom.studyInstanceUid, phantom.seriesInstanceUid, dest, new AbortController().signal).catch((e: Error) => e);
    console.log(`${name}: peak RSS grew ${((peakRss() - peakBefore) / MiB).toFixed(1)} MiB`);
    expect(err).toBeInstanceOf(InvalidDicom);
    expect((err as InvalidDicom).retryable).toBe(false);
    expect((err as InvalidDicom).detail).toMatch(/larger than the per-instance cap of 65536 bytes \(ILDFLOW_MAX_INSTANCE_BYTES\)/);
    expect(await readdir(dest)).toEqual([]);
    expect((await readdir(work)).filter((n) => n.startsWith('.incoming-'))).toEqual([]); // C-MOVE stages beside the spool
  });

  it('retrieves the same series under the default cap', async () => {
    const dest = await mkdtemp(join(work, 'dest-default-'));
    const got = await createDicomWebSource(orthanc.dicomWebUrl, { auth: orthanc.auth, retry }).retrieveSeries(phantom.studyInstanceUid, phantom.seriesInstanceUid, dest, new AbortController().signal);
    expect(got.files).toBe(3);
  });
});
