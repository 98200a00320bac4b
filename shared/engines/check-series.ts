/**
 * Before any engine runs: does the spooled series form one volume and meet the engine's declared
 * requirements? (DESIGN.md §5: requirements are checked before the engine runs; a failure makes the case
 * `ineligible` with the reasons.) Reads headers only.
 */
import { scanSeriesDir } from '../dicom/read-instance.js';
import { checkSeriesConsistency, summarizeSeries, type SeriesSummary } from '../volume/assemble-volume.js';
import type { EngineRequirements } from './contract.js';
import { checkRequirements } from './requirements.js';

export type SeriesCheck = Readonly<{ summary: SeriesSummary | null; reasons: string[] }>;

export async function checkSeriesForEngine(seriesDir: string, req: EngineRequirements): Promise<SeriesCheck> {
  const { instances, skipped } = await scanSeriesDir(seriesDir);
  const headers = instances.map((i) => i.header);
  const reasons = skipped.map((s) => `unusable image: ${s.reason}`);
  reasons.push(...checkSeriesConsistency(headers));
  if (headers.length === 0) return { summary: null, reasons };
  const summary = summarizeSeries(headers);
  reasons.push(...checkRequirements(summary, req));
  return { summary, reasons };
}
