/**
 * UIDs a PACS answers go into DICOMweb paths only when they are UIDs (issue 11, F13): digits and dots, at
 * most 64 characters (PS3.5 §9.1). The PACS here is a real HTTP server answering QIDO-RS with crafted
 * values — a path traversal, a query string — the way a compromised or broken PACS could; a real Orthanc
 * would not store them. Every request it receives is recorded.
 */
import http from 'node:http';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDicomWebSource } from '../../shared/pacs/dicomweb-source.js';
import { PacsRefused } from '../../shared/pacs/pacs-errors.js';

const uid = (v: string) => ({ vr: 'UI', Value: [v] });
const cs = (v: string) => ({ vr: 'CS', Value: [v] });
const TRAVERSAL = '1.2.3/../../../admin';
const QUERY = '1.2.5?delete=all';

describe('UIDs from PACS answers', () => {
  let server: http.Server;
  let base: string;
  let work: string;
  const seen: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-uids-'));
    server = http.createServer((req, res) => {
      const url = req.url ?? '';
      seen.push(url);
      const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/dicom+json' }).end(JSON.stringify(body));
      const path = url.split('?')[0]!;
      if (path === '/dicom-web/studies') return json([{ '0020000D': uid(TRAVERSAL) }, { '0020000D': uid('1.2.3'), '00100020': { vr: 'LO', Value: ['MRN-UID'] } }]);
      if (path === '/dicom-web/studies/1.2.3/series') return json([{ '0020000E': uid(TRAVERSAL), '00080060': cs('CT') }, { '0020000E': uid('1.2.4'), '00080060': cs('CT') }, { '0020000E': uid(QUERY), '00080060': cs('CT') }]);
      if (path === '/dicom-web/studies/1.2.3/series/1.2.4/instances') return json([{ '00080018': uid(QUERY) }]);
      res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
  });
  afterAll(async () => {
    server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const source = () => createDicomWebSource(base, { retry: { attempts: 1, delayMs: 1 } });

  it('drops studies and series whose UID is not a UID, and puts none into a path', async () => {
    const studies = await source().findStudies({ patientId: 'MRN-UID' });
    expect(studies.map((s) => s.studyInstanceUid)).toEqual(['1.2.3']);
    const series = await source().findSeries('1.2.3');
    expect(series.map((s) => s.seriesInstanceUid)).toEqual(['1.2.4']);
    for (const url of seen) {
      expect(url, url).toMatch(/^\/dicom-web\/studies(\/[0-9.]+(\/series(\/[0-9.]+\/instances)?)?)?(\?|$)/);
      expect(url).not.toMatch(/admin|delete/);
    }
  });

  it('refuses to put a value that is not a UID into a retrieval path, before any request', async () => {
    const before = seen.length;
    for (const [study, series] of [['1.2.3', TRAVERSAL], [QUERY, '1.2.4'], ['1.2.3', '1'.repeat(65)]] as const) {
      const err = await source().retrieveSeries(study, series, work, new AbortController().signal).catch((e: Error) => e);
      expect(err).toBeInstanceOf(PacsRefused);
      expect((err as Error).message).toMatch(/not a DICOM UID \(PS3\.5 §9\.1\)/);
    }
    await expect(source().findSeries(TRAVERSAL)).rejects.toBeInstanceOf(PacsRefused);
    expect(seen.length).toBe(before);
  });
});
