/**
 * The review viewer's routes (docs/review.md "The viewer") on the real pipeline: a phantom chest CT driven by
 * the API and every worker (reference engine) to awaiting_review, then its slices read over HTTP and
 * compared with the repository's own readers — the HU with the volume the engine analysed
 * (assembleVolume), the labels with the stored SEG's frames (read-seg.ts). Also: 304 on If-None-Match with
 * no-store kept, the roles that may not read slices, one audit entry per view however many slices are
 * read, and a purged spool answered as a clear problem.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSegFrame, readSegHeader } from '../../shared/dicom/seg/read-seg.js';
import { LABEL_CLASSES } from '../../shared/engines/label-classes.js';
import { REPORT_ARTIFACTS } from '../../shared/reports/report-refs.js';
import { assembleVolume, type Volume } from '../../shared/volume/assemble-volume.js';
import { startHarness, TOKENS, type Harness } from '../helpers/pipeline-harness.js';
import { orderReviewCase } from '../helpers/review-case.js';

const PATIENT = { id: 'MRN-VW-7001', name: 'SILVA^RUI', birthDate: '1950-05-06', sex: 'M' } as const;
const SIZE = 128;
const SLICES = 64;

async function get(h: Harness, path: string, token: string | null, headers: Record<string, string> = {}) {
  const res = await fetch(h.base + path, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** The SEG's classes on slice z, read independently of the viewer: every frame at the slice's position. */
async function segSlice(segPath: string, volume: Volume, z: number, segments: { number: number; key: string }[]): Promise<Uint8Array> {
  const seg = await readSegHeader(segPath);
  const out = new Uint8Array(volume.width * volume.height);
  const pos = volume.positions[z]!;
  for (const [k, f] of seg.frames.entries()) {
    if (!f.position || f.position.some((v, i) => Math.abs(v - pos[i]!) > 0.01)) continue;
    const value = LABEL_CLASSES.find((c) => c.key === segments.find((s) => s.number === f.segment)?.key)!.segmentNumber;
    const bits = await readSegFrame(segPath, seg, k);
    for (let i = 0; i < out.length; i++) if (bits[i]) out[i] = value;
  }
  return out;
}

describe('the review viewer routes', () => {
  let h: Harness;
  let id: string;
  let c: any;
  let volume: Volume;

  beforeAll(async () => {
    h = await startHarness();
    id = await orderReviewCase(h, { patient: PATIENT, orderId: 'ORD-VW-1', seed: 4, size: SIZE });
    c = (await h.call('GET', `/v1/cases/${id}`, TOKENS.admin)).body;
    volume = await assembleVolume(join(h.dataDir, 'cases', id, 'series'));
  });
  afterAll(async () => h?.close());

  const viewerAudits = async () => (await h.runtime.store.auditTrail(100_000)).filter((e) => e.action === 'viewer.read' && e.caseId === id);

  it('describes the series, its key images and the one vocabulary, with per-slice class counts', async () => {
    const r = await h.call('GET', `/v1/cases/${id}/viewer`, TOKENS.radiologist);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body.series).toMatchObject({ sliceCount: SLICES, rows: SIZE, columns: SIZE, pixelSpacingMm: [...volume.pixelSpacingMm] });
    expect(r.body.series.positions).toEqual(volume.positions.map((p) => [...p]));
    expect(r.body.classes).toEqual(LABEL_CLASSES.map((l) => ({ key: l.key, label: l.label, value: l.segmentNumber, rgb: l.rgb })));
    expect(r.body.keyImages.map((k: any) => k.sliceIndex)).toEqual(c.result.keyImages.map((k: any) => k.sliceIndex));
    expect(r.body.labelMap).toEqual({ status: 'stored' });
    expect(r.body.classCounts).toHaveLength(SLICES);
    expect(JSON.stringify(r.body)).not.toContain(h.dataDir); // no internal paths (docs/design.md §6)
  });

  it('serves each slice as the HU the engine analysed and its labels as the stored SEG holds them; the counts match the labels', async () => {
    const viewer = (await h.call('GET', `/v1/cases/${id}/viewer`, TOKENS.radiologist)).body;
    const segPath = join(h.dataDir, 'cases', id, 'artifacts', REPORT_ARTIFACTS.labelMap);
    const n = SIZE * SIZE;
    for (const z of [0, 17, 31, 32, 50, SLICES - 1]) {
      const px = await get(h, `/v1/cases/${id}/slices/${z}`, TOKENS.radiologist);
      expect(px.res.status).toBe(200);
      expect(px.res.headers.get('content-type')).toBe('application/octet-stream');
      expect(px.res.headers.get('x-slice-rows')).toBe(String(SIZE));
      expect(px.res.headers.get('x-slice-columns')).toBe(String(SIZE));
      const hu = new Int16Array(px.bytes.buffer, px.bytes.byteOffset, n);
      expect(Buffer.from(hu.buffer, hu.byteOffset, hu.byteLength).equals(Buffer.from(volume.hu.buffer, z * n * 2, n * 2))).toBe(true);

      const lb = await get(h, `/v1/cases/${id}/slices/${z}/labels`, TOKENS.radiologist);
      expect(lb.res.status).toBe(200);
      expect(lb.bytes).toEqual(await segSlice(segPath, volume, z, c.labelMap.segments));
      const counted = LABEL_CLASSES.map((l) => lb.bytes.filter((v) => v === l.segmentNumber).length);
      expect(viewer.classCounts[z]).toEqual(counted);
    }
    // The middle of a UIP phantom holds lung with findings: the labels are not empty.
    expect(viewer.classCounts[32].reduce((a: number, b: number) => a + b, 0)).toBeGreaterThan(500);
  });

  it('answers If-None-Match with 304 and keeps no-store (PHI: no cache may keep a slice)', async () => {
    for (const path of [`/v1/cases/${id}/slices/5`, `/v1/cases/${id}/slices/5/labels`]) {
      const first = await get(h, path, TOKENS.radiologist);
      const etag = first.res.headers.get('etag')!;
      expect(etag).toMatch(/^"[^"]+"$/); // strong
      expect(first.res.headers.get('cache-control')).toBe('no-store');
      const again = await get(h, path, TOKENS.radiologist, { 'if-none-match': etag });
      expect(again.res.status).toBe(304);
      expect(again.bytes.byteLength).toBe(0);
      expect(again.res.headers.get('cache-control')).toBe('no-store');
      const other = await get(h, path.replace('/5', '/6'), TOKENS.radiologist, { 'if-none-match': etag });
      expect(other.res.status).toBe(200);
    }
  });

  it('refuses the slices to every role that does not review: orderer, billing, pacs', async () => {
    for (const token of [TOKENS.orderer, TOKENS.billing, TOKENS.pacs])
      for (const path of [`/v1/cases/${id}/viewer`, `/v1/cases/${id}/slices/1`, `/v1/cases/${id}/slices/1/labels`]) {
        const r = await h.call('GET', path, token);
        expect(r.status, `${path}`).toBe(403);
        expect(r.headers.get('content-type')).toMatch(/problem\+json/);
      }
    expect((await h.call('GET', `/v1/cases/${id}/slices/1`, null)).status).toBe(401);
    expect((await h.call('GET', `/v1/cases/${id}/slices/${SLICES}`, TOKENS.radiologist)).status).toBe(404);
    expect((await h.call('GET', `/v1/cases/${id}/slices/-1`, TOKENS.radiologist)).status).toBe(404);
  });

  it('audits one view, not each slice; a client that reads slices without the viewer document is audited once too', async () => {
    const before = (await viewerAudits()).length;
    expect((await h.call('GET', `/v1/cases/${id}/viewer`, TOKENS.radiologist2)).status).toBe(200);
    for (let z = 0; z < 30; z++) {
      expect((await get(h, `/v1/cases/${id}/slices/${z}`, TOKENS.radiologist2)).res.status).toBe(200);
      expect((await get(h, `/v1/cases/${id}/slices/${z}/labels`, TOKENS.radiologist2)).res.status).toBe(200);
    }
    const after = await viewerAudits();
    expect(after.length - before).toBe(1);
    expect(after.at(-1)).toMatchObject({ userId: 'u-rad-2', action: 'viewer.read', caseId: id });

    for (let z = 0; z < 10; z++) expect((await get(h, `/v1/cases/${id}/slices/${z}`, TOKENS.admin)).res.status).toBe(200);
    const byAdmin = (await viewerAudits()).filter((e) => e.userId === 'u-admin');
    expect(byAdmin).toHaveLength(1);
  });

  it('says the images are in the PACS once the spool is purged: the viewer document without series, the slices 410 series-not-held', async () => {
    await h.runtime.store.update(id, 'worker:test', (x) => ({ next: { ...x, spool: { purgedAt: new Date().toISOString(), bytes: 1 } }, reason: 'test: purge recorded' }));
    const doc = await h.call('GET', `/v1/cases/${id}/viewer`, TOKENS.radiologist);
    expect(doc.status).toBe(200);
    expect(doc.body.series).toBeNull();
    expect(doc.body.images).toMatchObject({ heldBy: 'pacs', note: expect.stringContaining('the images are in the PACS') });
    for (const path of [`/v1/cases/${id}/slices/3`, `/v1/cases/${id}/slices/3/labels`]) {
      const r = await h.call('GET', path, TOKENS.radiologist);
      expect(r.status).toBe(410);
      expect(r.body).toMatchObject({ type: expect.stringMatching(/series-not-held$/), detail: expect.stringContaining('the images are in the PACS') });
    }
  });

  it('answers the same problem when the spool folder is gone without a purge record', async () => {
    await h.runtime.store.update(id, 'worker:test', (x) => ({ next: { ...x, spool: undefined, source: { ...x.source!, retrievedAt: new Date().toISOString() } }, reason: 'test: purge record dropped' }));
    await rm(join(h.dataDir, 'cases', id, 'series'), { recursive: true, force: true });
    const r = await h.call('GET', `/v1/cases/${id}/slices/3`, TOKENS.radiologist);
    expect(r.status).toBe(410);
    expect(r.body.type).toMatch(/series-not-held$/);
    expect((await h.call('GET', `/v1/cases/${id}/viewer`, TOKENS.radiologist)).body.series).toBeNull();
  });
});
