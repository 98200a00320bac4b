/**
 * Cases for the viewer's API tests on the API harness (api-harness.ts): a small phantom series with a label
 * map from its ground truth (tools/phantom/truth-label-map.ts), written once per harness, and a case in
 * review pointing at it as the workers would leave it (source.seriesDir, labelMap stored, the SEG among its
 * artifacts).
 */
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Case } from '../../shared/domain/case.js';
import { REPORT_ARTIFACTS } from '../../shared/reports/report-refs.js';
import { phantomWithTruthLabelMap, type TruthLabelMap } from '../../tools/phantom/truth-label-map.js';
import type { Harness } from './api-harness.js';

const series = new Map<string, Promise<TruthLabelMap & { dir: string; seg: string }>>();

/** The harness's phantom series (48×48×12, UIP) and its truth SEG, written on first use. */
export function viewerSeries(h: Pick<Harness, 'dataDir'>) {
  let p = series.get(h.dataDir);
  if (!p) {
    const dir = path.join(h.dataDir, 'viewer-phantom', 'series');
    const seg = path.join(h.dataDir, 'viewer-phantom', 'seg.dcm');
    p = phantomWithTruthLabelMap({ dir, pattern: 'uip', seed: 11, rows: 48, columns: 48, slices: 12, sliceThicknessMm: 2.5 }, seg).then((t) => ({ ...t, dir, seg }));
    series.set(h.dataDir, p);
  }
  return p;
}

/** A case `awaiting_review` whose series and label map are the harness's phantom; `purged` as after retention. */
export async function seedViewerCase(h: Harness, o: { purged?: boolean } = {}): Promise<Case> {
  const s = await viewerSeries(h);
  const c = await h.seedCase('awaiting_review');
  const artifacts = path.join(h.dataDir, 'cases', c.id, 'artifacts');
  await mkdir(artifacts, { recursive: true });
  await copyFile(s.seg, path.join(artifacts, REPORT_ARTIFACTS.labelMap));
  return h.store.update(c.id, 'worker:test', (x) => ({
    next: {
      ...x,
      source: { ...x.source!, seriesDir: s.dir, sliceCount: s.phantom.files.length, studyInstanceUid: s.phantom.studyInstanceUid, seriesInstanceUid: s.phantom.seriesInstanceUid },
      labelMap: { status: 'stored', sopInstanceUid: s.sopInstanceUid, segments: s.segments },
      ...(o.purged ? { spool: { purgedAt: new Date().toISOString(), bytes: 1 } } : {}),
    },
    reason: 'seed viewer series',
  }));
}
