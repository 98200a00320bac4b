import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDicomWebSource } from './dicomweb-source.js';

let root: string;
let server: http.Server;
let url: string;
const bodies: { length: string | undefined; body: Buffer }[] = [];
let failFirst = true;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-stow-'));
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    bodies.push({ length: req.headers['content-length'], body: Buffer.concat(chunks) });
    if (failFirst) {
      failFirst = false;
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/dicom+json' });
    res.end(JSON.stringify({ '00081199': { vr: 'SQ', Value: [{}, {}] } }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
});
afterAll(async () => {
  server.close();
  await rm(root, { recursive: true, force: true });
});

describe('STOW-RS (PS3.18 §10.5)', () => {
  it('streams the files with a Content-Length, and sends the whole body again when it retries', async () => {
    const a = join(root, 'a.dcm'), b = join(root, 'b.dcm');
    await writeFile(a, Buffer.alloc(200_000, 1));
    await writeFile(b, Buffer.from('second'));
    const source = createDicomWebSource(url, { retry: { attempts: 2, delayMs: 10 } });
    expect(await source.storeInstances([a, b], new AbortController().signal)).toEqual({ stored: 2 });
    expect(bodies).toHaveLength(2);
    for (const { length, body } of bodies) {
      expect(Number(length)).toBe(body.length);
      expect(body.includes(Buffer.alloc(200_000, 1))).toBe(true);
      expect(body.toString('latin1')).toMatch(/Content-Location: b\.dcm\r\n\r\nsecond\r\n--ildflow-[^-]+-[\w-]+--\r\n$/);
    }
  });
});
