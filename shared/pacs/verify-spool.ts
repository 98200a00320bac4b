/**
 * What a retrieved series must satisfy before it leaves the spool, whichever protocol brought it
 * (docs/design.md §5 "Completeness"): every file a readable Part 10 CT image of the series that was asked for
 * (compressed ones decoded first, shared/dicom/decode-instance.ts, and refused from their header when they
 * cannot be a CT slice), no instance twice, and as many instances as the PACS
 * counts (NumberOfSeriesRelatedInstances, PS3.4 C.3.4). A short or cut transfer is a PacsUnavailable
 * (retried with backoff, never analysed); a whole file that is unusable (undecodable pixels, absurd
 * dimensions, missing attributes) is InvalidDicom (not retried).
 * Slice gaps and mixed frames of reference are checked when the volume is assembled (assemble-volume.ts),
 * which makes the case ineligible with the reason.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeToExplicitLittle } from '../dicom/decode-instance.js';
import { readInstanceHeader, type InstanceHeader } from '../dicom/read-instance.js';
import { InvalidDicom, PacsUnavailable } from '../errors.js';

export type SpoolCheck = Readonly<{ files: number; bytes: number; decoded: Readonly<Record<string, number>> }>;

/**
 * `known`: the headers the receiver already parsed from the stream (instance-head.ts), by file name. Those
 * files are not opened again; every other file in `dir` is decoded if need be and read, as it always was.
 */
export async function verifySpool(
  dir: string,
  expected: Readonly<{ studyInstanceUid: string; seriesInstanceUid: string; instanceCount?: number }>,
  known: ReadonlyMap<string, Readonly<{ header: InstanceHeader; bytes: number }>> = new Map(),
): Promise<SpoolCheck> {
  const seen = new Set<string>();
  const decoded: Record<string, number> = {};
  let bytes = 0;
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const already = known.get(name);
    const header = already?.header ?? (await readSpooled(path, name, decoded));
    if (header.studyInstanceUid !== expected.studyInstanceUid || header.seriesInstanceUid !== expected.seriesInstanceUid) {
      // Never analyse what was not asked for; the protocol adapters already refuse it, this is the backstop.
      await unlink(path);
      throw new PacsUnavailable(`the PACS sent an instance of another series (${header.seriesInstanceUid})`);
    }
    if (seen.has(header.sopInstanceUid)) {
      await unlink(path); // the same instance twice (a retried sub-operation): keep one
      continue;
    }
    seen.add(header.sopInstanceUid);
    bytes += already ? already.bytes : (await stat(path)).size;
  }
  if (expected.instanceCount !== undefined && seen.size < expected.instanceCount)
    throw new PacsUnavailable(`received ${seen.size} of ${expected.instanceCount} instances; the series may still be arriving`);
  return { files: seen.size, bytes, decoded };
}

/** A spooled file the stream did not settle: decoded in place if compressed, then its header read from disk. */
async function readSpooled(path: string, name: string, decoded: Record<string, number>): Promise<InstanceHeader> {
  try {
    const ts = await decodeToExplicitLittle(path);
    if (ts) decoded[ts] = (decoded[ts] ?? 0) + 1;
    return readInstanceHeader(path);
  } catch (err) {
    if (!(err instanceof InvalidDicom)) throw err;
    // Only a cut or mangled file (`damaged`) can be transfer damage that a retry may heal. A file that
    // arrived whole but says something unusable (65535×65535 pixels, 7 bits allocated, no pixel data,
    // undecodable pixels) will say the same on every retry: fail at once with what is wrong (docs/design.md §7).
    if (err.kind !== 'damaged') throw new InvalidDicom(`instance ${name} of the series is not usable: ${err.detail}`);
    throw new PacsUnavailable(`a received instance is broken (${err.detail}); the transfer will be retried`);
  }
}
