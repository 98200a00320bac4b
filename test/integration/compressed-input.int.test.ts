/**
 * Compressed input everywhere (issue 13): a series compressed by DCMTK or GDCM analyses through
 * `ildflow analyze DIR` and the folder source as its uncompressed original does, by the one decoder the PACS
 * sources use (shared/dicom/decode-instance.ts); and a JPEG-LS file of 10 kB claiming 16 frames of 4096²
 * (512 MiB decoded) is refused from its header — in under a second, with under 50 MB more RSS — through the
 * decoder, the folder source, `ildflow analyze`, WADO-RS multipart, C-GET and C-MOVE, and makes its case ineligible.
 */
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { analyzeCommand } from '../../services/cli/analyze.js';
import { decodeToExplicitLittle, transferSyntaxOf } from '../../shared/dicom/decode-instance.js';
import { TS } from '../../shared/dicom/transfer-syntax.js';
import { InvalidDicom } from '../../shared/errors.js';
import { createDicomWebSource } from '../../shared/pacs/dicomweb-source.js';
import { createDimseSource } from '../../shared/pacs/dimse-source.js';
import { createFolderSource } from '../../shared/pacs/folder-source.js';
import { generatePhantom, type PhantomResult } from '../../shared/phantom/generate-phantom.js';
import { compressSeries, ENCODINGS, hasTool, jpegLsBomb } from '../fixtures/compressed/compress.js';
import { freePort, isOrthancInstalled, startOrthanc, type Orthanc } from '../helpers/orthanc.js';
import { routineOrder, startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';

/** The reference engine's smallest eligible series: 50 contiguous 3 mm slices (150 mm), 128² at 1 mm. */
const SERIES = { rows: 128, columns: 128, slices: 50, sliceThicknessMm: 3, pattern: 'uip', seed: 13 } as const;
const BOMB_REASON = /JPEG-LS Lossless pixel data holds 16 frames, and a CT slice is 1 frame .*refused from the header, before decoding/;

let work: string;
let phantom: PhantomResult;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ildflow-compressed-'));
  phantom = await generatePhantom({ dir: join(work, 'original'), ...SERIES, patient: { id: 'MRN-JLS-ORIG' } });
});
afterAll(async () => work && rm(work, { recursive: true, force: true }));

async function analyze(dir: string): Promise<{ code: number; out: Record<string, any> }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await analyzeCommand([dir, '--json', '--threads', '1']);
    return { code, out: JSON.parse(String(log.mock.calls.at(-1)?.[0] ?? '{}')) };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

/** Runs `fn`, sampling RSS every 2 ms: its wall time and how far RSS rose above where it started. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; rssMb: number }> {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { value, ms: performance.now() - t0, rssMb: (Math.max(peak, process.memoryUsage().rss) - before) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

const quantities = (out: Record<string, any>) => ({ category: out.classification.category, ...out.quantities });

describe('`ildflow analyze DIR` on a compressed series', () => {
  let reference: Record<string, unknown>;
  beforeAll(async () => {
    const { code, out } = await analyze(join(work, 'original'));
    expect(code).toBe(0);
    reference = quantities(out);
  }, 60_000);

  it.each(ENCODINGS.map((e) => [e.name, e] as const))('gives %s the category and quantities of the uncompressed series', async (_name, enc) => {
    // In CI (.ci/run installs it) a missing tool fails the test rather than skipping it unseen, as for Orthanc.
    if (!hasTool(enc.tool) && !process.env.CI) return void console.warn(`${enc.tool} is not installed: ${enc.name} not checked`);
    const dir = join(work, `analyze-${enc.transferSyntaxUid}`);
    const files = await compressSeries(phantom.files, dir, enc);
    expect(transferSyntaxOf(files[0]!)).toBe(enc.transferSyntaxUid);
    const { code, out } = await analyze(dir);
    expect(code, JSON.stringify(out)).toBe(0);
    expect(quantities(out)).toEqual(reference);
    // DIR is only read: its files keep their syntax.
    expect(files.map((f) => transferSyntaxOf(f))).toEqual(files.map(() => enc.transferSyntaxUid));
  }, 60_000);
});

describe('the 16-frame 4096² JPEG-LS decompression bomb', () => {
  const ids = (tag: string) => ({ patientId: `MRN-BOMB-${tag}`, studyInstanceUid: `2.25.13${process.pid}1`, seriesInstanceUid: `2.25.13${process.pid}2`, frameOfReferenceUid: `2.25.13${process.pid}3` });
  let bomb: Uint8Array;
  beforeAll(async () => {
    bomb = await jpegLsBomb(join(work, 'bomb-parts'), ids('X'));
  }, 30_000);

  const expectRefused = (err: unknown, ms: number, rssMb: number, where: string) => {
    console.info(`bomb via ${where}: refused in ${ms.toFixed(1)} ms, RSS +${rssMb.toFixed(1)} MiB`);
    expect(err).toBeInstanceOf(InvalidDicom);
    expect((err as InvalidDicom).kind).toBe('unusable');
    expect((err as InvalidDicom).retryable).toBe(false);
    expect((err as InvalidDicom).detail).toMatch(BOMB_REASON);
    expect(ms).toBeLessThan(1000);
    expect(rssMb).toBeLessThan(50);
  };

  it('is a small file that really holds 16 JPEG-LS frames of 4096²', () => {
    expect(bomb.length).toBeLessThan(16 * 1024);
  });

  it('is refused by the decoder from its header', async () => {
    const path = join(work, 'bomb.dcm');
    await writeFile(path, bomb);
    const { value: err, ms, rssMb } = await measured(() => decodeToExplicitLittle(path).catch((e: unknown) => e));
    expectRefused(err, ms, rssMb, 'the decoder');
  });

  it('is refused by the folder source, naming the file', async () => {
    const root = join(work, 'bomb-folder');
    const p = await generatePhantom({ dir: join(root, 'ct'), ...SERIES, slices: 3, patient: { id: 'MRN-BOMB-F' } });
    // The bomb as the middle slice of the series, as a PACS export would hold it.
    const sameSeries = { patientId: 'MRN-BOMB-F', studyInstanceUid: p.studyInstanceUid, seriesInstanceUid: p.seriesInstanceUid, frameOfReferenceUid: `${p.seriesInstanceUid}.9` };
    await writeFile(p.files[1]!, await jpegLsBomb(join(work, 'bomb-parts-folder'), sameSeries));
    const source = createFolderSource(root);
    // Refused by the index from its header, it still counts in its series, as a PACS would count it.
    expect((await source.findSeries(p.studyInstanceUid)).map((s) => s.instanceCount)).toEqual([3]);
    const dest = await mkdtemp(join(work, 'bomb-folder-dest-'));
    const { value: err, ms, rssMb } = await measured(() =>
      source.retrieveSeries(p.studyInstanceUid, p.seriesInstanceUid, dest, new AbortController().signal).catch((e: unknown) => e),
    );
    expectRefused(err, ms, rssMb, 'the folder source');
    expect((err as InvalidDicom).detail).toMatch(/^instance IM00002\.dcm of the series is not usable/);
  });

  it('makes `ildflow analyze` answer "not eligible" with the reason', async () => {
    const dir = join(work, 'bomb-analyze');
    const p = await generatePhantom({ dir, ...SERIES, patient: { id: 'MRN-BOMB-A' } });
    await writeFile(join(dir, 'bomb.dcm'), bomb);
    const { value, ms, rssMb } = await measured(() => analyze(dir));
    console.info(`bomb via ildflow analyze (${p.files.length} good slices beside it): ${ms.toFixed(0)} ms, RSS +${rssMb.toFixed(1)} MiB`);
    expect(value.code).toBe(3);
    expect(value.out.reasons.join('; ')).toMatch(BOMB_REASON);
    expect(rssMb).toBeLessThan(50);
  });

  describe('over WADO-RS from a PACS that does not transcode', () => {
    let server: http.Server;
    let base: string;
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        if (!/\/series\/[0-9.]+$/.test(req.url ?? '')) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"; boundary=B13' });
        res.end(Buffer.concat([Buffer.from('--B13\r\nContent-Type: application/dicom\r\n\r\n'), Buffer.from(bomb), Buffer.from('\r\n--B13--\r\n')]));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
    });
    afterAll(() => void server?.close());

    it('is refused after the multipart part is spooled, before decoding, not retried', async () => {
      const dest = await mkdtemp(join(work, 'bomb-wado-'));
      const source = createDicomWebSource(base, { retry: { attempts: 3, delayMs: 1 } });
      const { value: err, ms, rssMb } = await measured(() =>
        source.retrieveSeries(ids('X').studyInstanceUid, ids('X').seriesInstanceUid, dest, new AbortController().signal).catch((e: unknown) => e),
      );
      expectRefused(err, ms, rssMb, 'WADO-RS multipart');
      expect((err as InvalidDicom).detail).toMatch(/^instance 000001\.dcm of the series is not usable/);
    });
  });

  describe.skipIf(!isOrthancInstalled())('over C-GET and C-MOVE (C-STORE into ildflow), from a real Orthanc', () => {
    let orthanc: Orthanc;
    let scpPort: number;
    beforeAll(async () => {
      scpPort = await freePort();
      orthanc = await startOrthanc({ modalities: { ILDFLOW: ['ILDFLOW', '127.0.0.1', scpPort] } });
      const r = await orthanc.rest('/instances', { method: 'POST', body: Buffer.from(bomb) });
      expect(r.status).toBe(200); // Orthanc keeps it as sent: it decodes nothing on store
    }, 30_000);
    afterAll(async () => orthanc?.close());

    // Orthanc sends it as stored (it would otherwise decode 512 MiB for 30 s first): both retrievals accept JPEG-LS.
    it.each(['c-get', 'c-move'] as const)('is refused on arrival over %s, before decoding, not retried', async (retrieve) => {
      const dest = await mkdtemp(join(work, `bomb-${retrieve}-`));
      const source = createDimseSource(`dicom://ORTHANC@127.0.0.1:${orthanc.dicomPort}?retrieve=${retrieve}&calling=ILDFLOW&port=${scpPort}`, { retry: { attempts: 1, delayMs: 10 } });
      try {
        const { value: err, ms, rssMb } = await measured(() =>
          source.retrieveSeries(ids('X').studyInstanceUid, ids('X').seriesInstanceUid, dest, new AbortController().signal).catch((e: unknown) => e),
        );
        expectRefused(err, ms, rssMb, retrieve);
        const [name] = await readdir(dest);
        expect(transferSyntaxOf(join(dest, name!))).toBe(TS.jpegLsLossless); // Orthanc sent it as stored
      } finally {
        await source.close();
      }
    }, 30_000);
  });

  describe('through the pipeline from a file:// source', () => {
    let h: Harness;
    beforeAll(async () => void (h = await startHarness()));
    afterAll(async () => h?.close());

    const order = (id: string, patientId: string) => routineOrder(id, patientId, 'PHANTOM^TEST');

    it('analyses a folder of JPEG Lossless files and makes the case holding the bomb ineligible, and keeps serving', async () => {
      const patientId = 'MRN-JLS-PIPE';
      const p = await generatePhantom({ dir: join(work, 'pipe-original'), ...SERIES, patient: { id: patientId, name: 'PHANTOM^TEST', birthDate: '19500101', sex: 'F' } });
      await compressSeries(p.files, join(h.pacsDir, 'jpeg-lossless'), ENCODINGS[0]!);
      const bombIds = ids('PIPE');
      const bombed = join(h.pacsDir, 'bombed');
      const slices = await generatePhantom({ dir: bombed, ...SERIES, patient: { id: 'MRN-BOMB-PIPE', name: 'PHANTOM^TEST', birthDate: '19500101', sex: 'F' }, study: { studyInstanceUid: bombIds.studyInstanceUid } });
      // The bomb as one slice of an otherwise good series (its series and frame of reference).
      const bombBytes = await jpegLsBomb(join(work, 'bomb-parts-pipe'), { ...bombIds, patientId: 'MRN-BOMB-PIPE', seriesInstanceUid: slices.seriesInstanceUid, frameOfReferenceUid: slices.seriesInstanceUid });
      await writeFile(slices.files[25]!, bombBytes);

      const good = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-JLS-${process.pid}`, patientId));
      const bad = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-BOMB-${process.pid}`, 'MRN-BOMB-PIPE'));
      const posted = Date.now();
      const refused = await waitForStatus(h, bad.body.id, ['ineligible', 'failed', 'awaiting_review'], 30_000);
      const rc = refused.case ?? refused;
      expect(rc.status, JSON.stringify(rc.failure)).toBe('ineligible');
      expect(rc.ineligibleReasons.join('; ')).toMatch(BOMB_REASON);
      expect(Date.now() - posted).toBeLessThan(5_000); // not retried (the first retry waits 5 s)
      const done = await waitForStatus(h, good.body.id, ['awaiting_review', 'ineligible', 'failed'], 60_000);
      const c = done.case ?? done;
      expect(c.status, JSON.stringify(done.timeline?.at(-1))).toBe('awaiting_review');
      expect((await h.call('GET', '/healthz', null)).status).toBe(200);
    }, 90_000);
  });
});
