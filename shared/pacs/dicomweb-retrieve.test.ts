/**
 * The WADO-RS series download against a scripted HTTP server: what a real PACS rarely does on purpose —
 * a body cut short, a stall, a part over the cap, an error status — must still end as the right error,
 * with nothing half-written left in the spool (docs/pacs.md).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidDicom, PacsUnavailable } from '../errors.js';
import { generatePhantom, type PhantomResult } from '../phantom/generate-phantom.js';
import { createDicomWebSource } from './dicomweb-source.js';
import { PacsRefused } from './pacs-errors.js';

let root: string;
let phantom: PhantomResult;
let parts: Buffer[];
let server: http.Server;
let base: string;
/** What the server does with the next series request. */
let script: 'whole' | 'cut' | 'stall' | 'not-multipart' | 'status-400' = 'whole';

const BOUNDARY = 'b-0123';

function multipart(bodies: readonly Buffer[], close = true): Buffer {
  const out: Buffer[] = [];
  for (const b of bodies) out.push(Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), b, Buffer.from('\r\n'));
  if (close) out.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(out);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-wado-'));
  phantom = await generatePhantom({ dir: join(root, 'series'), rows: 64, columns: 64, slices: 3, sliceThicknessMm: 2, pixelSpacingMm: 5, seed: 5 });
  parts = await Promise.all(phantom.files.map((f) => readFile(f)));
  server = http.createServer((req, res) => {
    const type = { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` };
    if (script === 'status-400') return void res.writeHead(400).end('bad accept');
    if (script === 'not-multipart') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const body = multipart(parts, script !== 'cut');
    res.writeHead(200, type);
    if (script === 'stall') return void res.write(body.subarray(0, 2000)); // then nothing, connection open
    res.end(script === 'cut' ? body.subarray(0, body.length - 3000) : body);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(root, { recursive: true, force: true });
});

async function retrieve(opts: Parameters<typeof createDicomWebSource>[1] = {}) {
  const dest = await mkdtemp(join(root, 'spool-'));
  const source = createDicomWebSource(base, { retry: { attempts: 1, delayMs: 1, timeoutMs: 2000, idleMs: 300 }, ...opts });
  const r = await source
    .retrieveSeries(phantom.studyInstanceUid, phantom.seriesInstanceUid, dest, new AbortController().signal)
    .catch((err: unknown) => err as Error);
  return { r, dest };
}

describe('WADO-RS series retrieval', () => {
  it('writes every part as a file, byte for byte, and counts the bytes', async () => {
    script = 'whole';
    const { r, dest } = await retrieve();
    expect(r).toEqual({ dir: dest, files: 3, bytes: parts.reduce((n, p) => n + p.length, 0) });
    const names = (await readdir(dest)).sort();
    expect(await Promise.all(names.map((n) => readFile(join(dest, n))))).toEqual(parts);
  });

  it('calls a body cut before its close delimiter a retryable PacsUnavailable', async () => {
    script = 'cut';
    const { r } = await retrieve();
    expect(r).toBeInstanceOf(PacsUnavailable);
    expect((r as PacsUnavailable).message).toMatch(/cut short/);
  });

  it('gives up on a body that stalls, after idleMs', async () => {
    script = 'stall';
    const t = performance.now();
    const { r } = await retrieve();
    expect(r).toBeInstanceOf(PacsUnavailable);
    expect((r as PacsUnavailable).message).toMatch(/no data for 300 ms/);
    expect(performance.now() - t).toBeLessThan(1500);
  });

  it('cuts off a part over the per-instance cap and keeps no file of it', async () => {
    script = 'whole';
    const { r, dest } = await retrieve({ maxInstanceBytes: 4000 });
    expect(r).toBeInstanceOf(InvalidDicom);
    expect(await readdir(dest)).toEqual([]);
  });

  it('refuses an answer that is not multipart, and a 400, without retrying', async () => {
    script = 'not-multipart';
    expect((await retrieve()).r).toBeInstanceOf(PacsRefused);
    script = 'status-400';
    const { r } = await retrieve();
    expect(r).toBeInstanceOf(PacsRefused);
    expect((r as PacsRefused).message).toMatch(/HTTP 400 from the PACS \(bad accept\)/);
  });
});
