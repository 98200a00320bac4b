/**
 * `file:///dir`: a folder of Part 10 files as an image source (the demo, offline use, a study exported to a
 * CD). The folder is indexed on each query — it is small by nature; a large archive belongs in a PACS.
 * Compressed files (JPEG, JPEG-LS, JPEG 2000, RLE) are indexed from their headers and decoded in the spool,
 * by the same decoder as the PACS sources' (shared/dicom/decode-instance.ts); the folder is never written.
 */
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { decodeToExplicitLittle, transferSyntaxOrNull } from '../dicom/decode-instance.js';
import { readInstanceHeader, readInstanceIdentity, type InstanceHeader, type InstanceIdentity } from '../dicom/read-instance.js';
import { personName } from '../dicom/person-name.js';
import { isNative } from '../dicom/transfer-syntax.js';
import { InvalidDicom, PacsUnavailable } from '../errors.js';
import type { ImageSource, RetrievedSeries, SeriesSummary, StudySummary } from './source.js';

type Indexed = Readonly<{ path: string; header: InstanceHeader }>;
/** A file that names its study and series but cannot be used (cut pixel data, absurd dimensions): it stays
 *  in its series, as a PACS would count and serve it, so the case is refused with the reader's reason
 *  instead of the slice silently going missing. */
type Broken = Readonly<{ path: string; identity: InstanceIdentity }>;

const MAX_DEPTH = 6;

export function createFolderSource(root: string): ImageSource {
  let broken: Broken[] = [];
  async function index(): Promise<Indexed[]> {
    const out: Indexed[] = [];
    const unusable: Broken[] = [];
    async function walk(dir: string, depth: number): Promise<void> {
      if (depth > MAX_DEPTH) return;
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) await walk(p, depth + 1);
        else if (entry.isFile() && !entry.name.endsWith('.json')) {
          try {
            out.push({ path: p, header: readInstanceHeader(p, { encapsulated: true }) });
          } catch (err) {
            // Not an image ildflow can use (an SR, a stray file): not part of any series it would pick.
            if (!(err instanceof InvalidDicom)) throw err;
            const identity = readInstanceIdentity(p);
            if (identity) unusable.push({ path: p, identity });
          }
        }
      }
    }
    try {
      await stat(root);
    } catch {
      throw new PacsUnavailable(`image folder ${root} does not exist`);
    }
    await walk(root, 0);
    broken = unusable;
    return out;
  }

  return {
    kind: 'folder',
    async ping() {
      try {
        await stat(root);
      } catch {
        throw new PacsUnavailable(`image folder ${root} does not exist`);
      }
    },

    async findStudies(q) {
      const studies = new Map<string, { s: StudySummary; modalities: Set<string> }>();
      for (const { header: h } of await index()) {
        if (q.patientId && h.patientId !== q.patientId) continue;
        if (q.studyInstanceUid && h.studyInstanceUid !== q.studyInstanceUid) continue;
        if (q.accessionNumber && h.accessionNumber !== q.accessionNumber) continue;
        const known = studies.get(h.studyInstanceUid);
        const s: StudySummary = {
          studyInstanceUid: h.studyInstanceUid,
          patientId: h.patientId ?? '',
          // The study-level patient attributes of the first file that carries them: the identity check
          // must not depend on which file the directory listing happens to name first.
          patientName: known?.s.patientName ?? personName(h.patientName),
          patientBirthDate: known?.s.patientBirthDate ?? h.patientBirthDate,
          accessionNumber: known?.s.accessionNumber ?? h.accessionNumber,
          studyDate: known?.s.studyDate ?? h.studyDate,
          modalitiesInStudy: [],
        };
        if (known) {
          known.modalities.add(h.modality);
          known.s = s;
        } else studies.set(h.studyInstanceUid, { s, modalities: new Set([h.modality]) });
      }
      return [...studies.values()].map(({ s, modalities }) => ({ ...s, modalitiesInStudy: [...modalities].sort() }));
    },

    async findSeries(studyInstanceUid) {
      const series = new Map<string, { first: InstanceHeader; count: number }>();
      for (const { header: h } of await index()) {
        if (h.studyInstanceUid !== studyInstanceUid) continue;
        const known = series.get(h.seriesInstanceUid);
        if (known) known.count++;
        else series.set(h.seriesInstanceUid, { first: h, count: 1 });
      }
      for (const b of broken) {
        const known = b.identity.studyInstanceUid === studyInstanceUid ? series.get(b.identity.seriesInstanceUid) : undefined;
        if (known) known.count++;
      }
      return [...series.values()].map(({ first: h, count }): SeriesSummary => ({
        studyInstanceUid: h.studyInstanceUid,
        seriesInstanceUid: h.seriesInstanceUid,
        modality: h.modality,
        seriesDescription: h.seriesDescription,
        instanceCount: count,
        imageType: h.imageType,
        sliceThicknessMm: h.sliceThickness,
        convolutionKernel: h.convolutionKernel,
        bodyPartExamined: h.bodyPartExamined,
        acquisitionDate: h.acquisitionDate ?? h.seriesDate ?? h.studyDate,
      }));
    },

    async retrieveSeries(studyInstanceUid, seriesInstanceUid, destDir, signal): Promise<RetrievedSeries> {
      let files = 0;
      let bytes = 0;
      const indexed = await index();
      const unusable = broken; // this index's, whatever a concurrent query indexes meanwhile
      for (const { path, header: h } of indexed) {
        if (h.studyInstanceUid !== studyInstanceUid || h.seriesInstanceUid !== seriesInstanceUid) continue;
        signal.throwIfAborted();
        await copyDecoded(path, join(destDir, `${h.sopInstanceUid}.dcm`));
        bytes += (await stat(path)).size;
        files++;
      }
      for (const { path, identity: b } of unusable) {
        if (b.studyInstanceUid !== studyInstanceUid || b.seriesInstanceUid !== seriesInstanceUid) continue;
        await copyDecoded(path, join(destDir, `unusable-${files}-${basename(path)}`));
        bytes += (await stat(path)).size;
        files++;
      }
      return { dir: destDir, files, bytes };
    },

    async storeInstances(files, signal) {
      // Results go beside the images, under a folder of their own, as a PACS would keep them in the study.
      const dest = join(root, 'ildflow-results');
      await mkdir(dest, { recursive: true });
      for (const f of files) {
        signal.throwIfAborted();
        await copyFile(f, join(dest, basename(f)));
      }
      return { stored: files.length };
    },
  };
}

/**
 * Copies one file of the series into the spool, decoding it there when it is compressed. A file the decoder
 * refuses (a 16-frame 4096² JPEG-LS, a broken RLE fragment table) fails the retrieval at once with the
 * reason: a folder says the same on every read, so nothing here is transfer damage worth retrying.
 */
async function copyDecoded(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  const ts = transferSyntaxOrNull(to);
  if (ts === null || isNative(ts)) return; // left for the series check, which names what the reader makes of it
  try {
    await decodeToExplicitLittle(to);
  } catch (err) {
    if (!(err instanceof InvalidDicom)) throw err;
    throw new InvalidDicom(`instance ${basename(from)} of the series is not usable: ${err.detail}`);
  }
}
