/**
 * The review viewer's routes (docs/review.md "The viewer"; docs/design.md §5 "series/slices"): the viewer
 * document (series geometry, key images, the class vocabulary, per-slice class counts), then one slice's
 * HU and one slice's label map as raw little-endian arrays, which the page windows and colours itself so
 * a window/level drag needs no round trip.
 *
 * Caching (docs/design.md §6, docs/security.md "Response headers"): a slice is PHI, so the answers keep the
 * `Cache-Control: no-store` every /v1 answer has — no browser or proxy cache may keep them, even though they
 * never change (RFC 9111 §5.2.2.5). They carry a strong ETag and answer If-None-Match with 304, for a client
 * that keeps slices in its own memory; the server keeps decoded slices in a bounded in-process LRU.
 * Auditing: the viewer document is audited on every read; slices only when no view was audited (audit-once.ts).
 */
import { endianness } from 'node:os';
import type { Request, RequestHandler, Response } from 'express';
import type { Case } from '../../../shared/domain/case.js';
import { EXTENT_ORDER, LABEL_CLASSES } from '../../../shared/engines/label-classes.js';
import { NoLabelMap, NotFound, SeriesNotHeld } from '../../../shared/errors.js';
import { imagesLocation } from '../../../shared/lifecycle/spool-retention.js';
import { REPORT_ARTIFACTS } from '../../../shared/reports/report-refs.js';
import type { SeriesViewerCache, ViewerSource } from '../../../shared/viewer/series-viewer.js';
import { matchesIfNoneMatch, strongEtag } from '../conditional.js';
import { userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { auditRead } from '../mount.js';
import { artifactPath } from './artifacts.js';
import type { AuditOnce } from './audit-once.js';

type ViewerDeps = Pick<ApiDeps, 'store' | 'config'> & Readonly<{ viewerCache: SeriesViewerCache; viewAudits: AuditOnce }>;

const AUDIT_ACTION = 'viewer.read';

/** Where the viewer reads this case's series and label map; SeriesNotHeld once the spool is purged. */
export function viewerSourceOf(c: Case, dataDir: string): ViewerSource {
  if (!c.source) throw new NotFound(`case ${c.id} has no retrieved series`);
  if (c.spool?.purgedAt) throw new SeriesNotHeld(imagesLocation(c).note ?? 'the images are in the PACS');
  const seg = c.labelMap?.status === 'stored' ? artifactPath(dataDir, c.id, REPORT_ARTIFACTS.labelMap) : null;
  return {
    // A retry retrieves again into the same folder: the attempt and retrieval time make a new key.
    key: `${c.id}|${c.attempt}|${c.source.retrievedAt}`,
    seriesDir: c.source.seriesDir,
    ...(seg && c.labelMap?.status === 'stored' ? { labelMap: { path: seg, segments: c.labelMap.segments } } : {}),
  };
}

/** A spool folder gone without a purge record (removed by hand, a lost volume) says the same as a purge. */
const orGone = <T>(p: Promise<T>): Promise<T> =>
  p.catch((err: unknown) => {
    if (err && typeof err === 'object' && 'code' in err && err.code === 'ENOENT') throw new SeriesNotHeld('the spooled series is no longer on disk; the images are in the PACS');
    throw err;
  });

/** The vocabulary as the page needs it: value = the class value in the label slices (the SEG segment number of label-classes.ts). */
export const VIEWER_CLASSES = LABEL_CLASSES.map((c) => ({ key: c.key, label: c.label, value: c.segmentNumber, rgb: c.rgb }));
const REPORT_ORDER = EXTENT_ORDER.map((c) => c.key);

export const getViewer =
  (deps: ViewerDeps): RequestHandler =>
  async (req, res) => {
    const c = await deps.store.get(String(req.params.id));
    const labelMap = c.labelMap ? (c.labelMap.status === 'stored' ? { status: 'stored' as const } : { status: c.labelMap.status, reason: c.labelMap.reason }) : { status: 'none' as const, reason: 'no label map was recorded for this result' };
    let series = null;
    let classCounts = null;
    try {
      const v = await orGone(deps.viewerCache.viewer(viewerSourceOf(c, deps.config.ILDFLOW_DATA_DIR)));
      const s = v.series;
      series = { sliceCount: s.files.length, rows: s.rows, columns: s.columns, pixelSpacingMm: s.pixelSpacingMm, sliceThicknessMm: s.sliceThicknessMm, sliceSpacingMm: s.sliceSpacingMm, positions: s.positions };
      classCounts = v.labelMap?.classCounts ?? null;
    } catch (err) {
      if (!(err instanceof SeriesNotHeld)) throw err; // the document still says where the images are
    }
    await auditRead(deps.store, req, res, AUDIT_ACTION, c.id);
    deps.viewAudits.note(userOf(res).id, c.id, Date.now());
    res.json({
      images: imagesLocation(c),
      series,
      labelMap,
      classes: VIEWER_CLASSES,
      reportOrder: REPORT_ORDER,
      classCounts,
      keyImages: (c.result?.keyImages ?? []).map((k) => ({ sliceIndex: k.sliceIndex, zone: k.zone, reason: k.reason })),
    });
  };

const SLICE = /^\d{1,5}$/;

/** The case, its viewer and slice n, or a problem; audits the read when no view of it was audited. */
async function sliceRequest(deps: ViewerDeps, req: Request, res: Response) {
  const c = await deps.store.get(String(req.params.id));
  const src = viewerSourceOf(c, deps.config.ILDFLOW_DATA_DIR);
  const v = await orGone(deps.viewerCache.viewer(src));
  const raw = String(req.params.n);
  const n = SLICE.test(raw) ? Number(raw) : -1;
  if (n < 0 || n >= v.series.files.length) throw new NotFound(`case ${c.id} has no slice ${raw} (slices 0…${v.series.files.length - 1})`);
  const user = userOf(res).id;
  if (deps.viewAudits.due(user, c.id, Date.now())) {
    await auditRead(deps.store, req, res, AUDIT_ACTION, c.id);
    deps.viewAudits.note(user, c.id, Date.now());
  }
  return { c, src, v, n };
}

/** 304 when the client holds this representation; otherwise the headers of the raw slice. */
function conditional(req: Request, res: Response, etag: string, rows: number, columns: number): boolean {
  res.setHeader('ETag', etag);
  if (matchesIfNoneMatch(req.headers['if-none-match'], etag)) {
    res.status(304).end();
    return true;
  }
  res.setHeader('X-Slice-Rows', String(rows));
  res.setHeader('X-Slice-Columns', String(columns));
  res.type('application/octet-stream');
  return false;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Int16 HU as little-endian bytes (a copy only on a big-endian host). */
function int16le(hu: Int16Array): Buffer {
  const b = Buffer.from(hu.buffer, hu.byteOffset, hu.byteLength);
  return LITTLE_ENDIAN_HOST ? b : Buffer.from(b).swap16();
}

export const getSlice =
  (deps: ViewerDeps): RequestHandler =>
  async (req, res) => {
    const { src, v, n } = await sliceRequest(deps, req, res);
    if (conditional(req, res, strongEtag(src.key, 'hu', n, v.series.sopInstanceUids[n]!), v.series.rows, v.series.columns)) return;
    res.setHeader('X-Slice-Encoding', 'int16le-hu');
    res.send(int16le(await orGone(deps.viewerCache.pixels(src, n))));
  };

export const getSliceLabels =
  (deps: ViewerDeps): RequestHandler =>
  async (req, res) => {
    const { c, src, v, n } = await sliceRequest(deps, req, res);
    if (!v.labelMap || c.labelMap?.status !== 'stored') throw new NoLabelMap(`case ${c.id}: ${c.labelMap && c.labelMap.status !== 'stored' ? c.labelMap.reason : 'no label map was stored'}`);
    if (conditional(req, res, strongEtag(src.key, 'labels', n, c.labelMap.sopInstanceUid), v.series.rows, v.series.columns)) return;
    res.setHeader('X-Slice-Encoding', 'uint8-class');
    res.send(Buffer.from((await deps.viewerCache.labels(src, n))!));
  };
