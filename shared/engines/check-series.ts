/**
 * Before any engine runs: does the spooled series form one volume and meet the engine's declared
 * requirements? (docs/design.md §5: requirements are checked before the engine runs; a failure makes the case
 * `ineligible` with the reasons.) Reads headers only.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { scanSeriesDir } from '../dicom/read-instance.js';
import { checkSeriesConsistency, summarizeSeries, type SeriesSummary } from '../volume/assemble-volume.js';
import type { EngineRequirements } from './contract.js';
import { checkRequirements } from './requirements.js';

export type SeriesCheck = Readonly<{ summary: SeriesSummary | null; reasons: string[] }>;

export async function checkSeriesForEngine(seriesDir: string, req: EngineRequirements): Promise<SeriesCheck> {
  const { instances, skipped } = await scanSeriesDir(seriesDir);
  const headers = instances.map((i) => i.header);
  // A DICOM file that cannot be used is a reason; a file that is not DICOM at all (a phantom's
  // ground-truth.json, a README beside the images) is not part of the series and is passed over.
  const reasons: string[] = [];
  for (const s of skipped) if (await isPart10(join(seriesDir, s.file))) reasons.push(`unusable image: ${s.reason}`);
  reasons.push(...checkSeriesConsistency(headers));
  if (headers.length === 0) return { summary: null, reasons };
  const summary = summarizeSeries(headers);
  reasons.push(...checkRequirements(summary, req));
  return { summary, reasons };
}

/** PS3.10 §7.1: a 128-byte preamble, then "DICM". */
async function isPart10(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 128);
    return bytesRead === 4 && buf.toString('latin1') === 'DICM';
  } finally {
    await fh.close();
  }
}
