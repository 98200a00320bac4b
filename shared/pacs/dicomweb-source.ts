/**
 * `http(s)://host/dicom-web`: a DICOMweb PACS (PS3.18). QIDO-RS finds studies and series (§10.6), one
 * instance's metadata per CT series fills in what selection needs (§10.4.1.1.2), WADO-RS retrieves the
 * series as `multipart/related; type="application/dicom"` (§8.6.1.2, §10.4.1.1.1) parsed as a stream straight
 * to files (multipart.ts: memory stays at about one network chunk), and STOW-RS stores results (§10.5).
 *
 * Failures: no answer, a timeout, 404, 429 or 5xx → PacsUnavailable (retryable; tried `attempts` times here,
 * then BullMQ backs off). 401/403 → PacsRefused after the same bounded tries: wrong credentials do not fix
 * themselves, so the case fails at once saying to check ILDFLOW_PACS_AUTH (docs/pacs.md).
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { basename, join } from 'node:path';
import { personName } from '../dicom/person-name.js';
import { TS } from '../dicom/transfer-syntax.js';
import { DicomUid } from '../domain/case.js';
import { PacsUnavailable } from '../errors.js';
import { getStream, type StreamedResponse } from './http-stream.js';
import { HeadCapture, type KnownInstances } from './instance-head.js';
import { boundaryOf, MultipartSplitter, MultipartTruncated } from './multipart.js';
import { DEFAULT_MAX_INSTANCE_BYTES, instanceTooLarge } from './instance-cap.js';
import { PacsRefused } from './pacs-errors.js';
import { DEFAULT_MATCH_LIMITS, exactValue, withinBound, type MatchLimits } from './query-bounds.js';
import { DEFAULT_RETRY, sleep, type RetryPolicy } from './retry-policy.js';
import type { ImageSource, RetrievedSeries, SeriesSummary, StudySummary } from './source.js';
import { verifySpool } from './verify-spool.js';

export type DicomWebOptions = Readonly<{
  /** `basic:user:password` or `bearer:token` (ILDFLOW_PACS_AUTH). */
  auth?: string;
  retry?: Partial<RetryPolicy>;
  /** How many matches a query may have (query-bounds.ts). */
  maxMatches?: Partial<MatchLimits>;
  /** The per-instance size cap (ILDFLOW_MAX_INSTANCE_BYTES, instance-cap.ts). */
  maxInstanceBytes?: number;
}>;

/** The DICOM JSON model (PS3.18 Annex F.2): attributes by tag, values in `Value`. */
type DicomJson = Record<string, { vr: string; Value?: unknown[] } | undefined>;

/** Attribute tags (PS3.6) as DICOM JSON keys. */
const T = {
  ImageType: '00080008',
  StudyDate: '00080020',
  SeriesDate: '00080021',
  AcquisitionDate: '00080022',
  AccessionNumber: '00080050',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  PatientName: '00100010',
  PatientID: '00100020',
  PatientBirthDate: '00100030',
  BodyPartExamined: '00180015',
  SliceThickness: '00180050',
  ConvolutionKernel: '00181210',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  NumberOfSeriesRelatedInstances: '00201209',
  SOPInstanceUID: '00080018',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  FailureReason: '00081197',
} as const;

const DICOM_MULTIPART = `multipart/related; type="application/dicom"`;

/**
 * UIDs go into request paths, and they come from PACS answers: only a UID — digits and dots, at most 64
 * characters (PS3.5 §9.1), nothing to encode — may (a `/../` or `?` would address another resource).
 */
const isUid = (v: string | undefined): v is string => v !== undefined && DicomUid.safeParse(v).success;

function pathUids(what: string, ...uids: string[]): void {
  for (const u of uids) if (!DicomUid.safeParse(u).success) throw new PacsRefused(`${what}: ${JSON.stringify(u.slice(0, 80))} is not a DICOM UID (PS3.5 §9.1)`);
}

export function createDicomWebSource(baseUrl: string, opts: DicomWebOptions = {}): ImageSource {
  const base = baseUrl.replace(/\/+$/, '');
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const authorization = authHeader(opts.auth);
  const limits: MatchLimits = { ...DEFAULT_MATCH_LIMITS, ...opts.maxMatches };

  /**
   * One request with bounded tries. Resolves with a 2xx response whose body is unread; anything else is
   * thrown as PacsUnavailable (retryable) or PacsRefused (not).
   */
  /** `body` may be a factory: a streamed body can be sent once only, so each attempt makes a fresh one. */
  function request(path: string, init: Omit<RequestInit, 'body'> & { what: string; body?: RequestInit['body'] | (() => RequestInit['body']) }, signal?: AbortSignal): Promise<Response> {
    return withTries(init.what, signal, (attemptSignal) => {
      const body = typeof init.body === 'function' ? init.body() : init.body;
      return fetch(base + path, {
        ...init,
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
        headers: { ...(authorization ? { authorization } : {}), ...(init.headers as Record<string, string>) },
        signal: attemptSignal,
      });
    });
  }

  /** A GET whose body is a Node stream (http-stream.ts), with the same tries and the same answers to failures. */
  function requestStream(path: string, accept: string, what: string, signal: AbortSignal): Promise<StreamedResponse> {
    return withTries(what, signal, (attemptSignal) => getStream(base + path, { accept, ...(authorization ? { authorization } : {}) }, attemptSignal));
  }

  /** The bounded tries and the status mapping of every request, whatever sends it. */
  async function withTries<R extends Readonly<{ ok: boolean; status: number; text(): Promise<string> }>>(
    what: string,
    signal: AbortSignal | undefined,
    send: (attemptSignal: AbortSignal) => Promise<R>,
  ): Promise<R> {
    let last: Error = new PacsUnavailable(`${what}: no attempt made`);
    for (let attempt = 1; attempt <= policy.attempts; attempt++) {
      if (attempt > 1) await sleep(policy.delayMs * 2 ** (attempt - 2), signal);
      signal?.throwIfAborted();
      const timeout = AbortSignal.timeout(policy.timeoutMs);
      let res: R;
      try {
        res = await send(signal ? AbortSignal.any([signal, timeout]) : timeout);
      } catch (err) {
        signal?.throwIfAborted();
        last = new PacsUnavailable(`${what}: ${timeout.aborted ? `no answer within ${policy.timeoutMs} ms` : networkReason(err)} (${base})`, { cause: err });
        continue;
      }
      if (res.ok) return res;
      const text = (await res.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
      if (res.status === 401 || res.status === 403) {
        last = new PacsRefused(
          `${what}: the PACS refused ildflow's credentials (HTTP ${res.status}) after ${attempt} attempt(s); check ILDFLOW_PACS_AUTH`,
        );
        continue;
      }
      // 404 on something QIDO-RS listed a moment ago: the study is changing under us (instances being
      // replaced or deleted); a later try sees a settled state.
      if (res.status === 429 || res.status >= 500 || res.status === 404) {
        last = new PacsUnavailable(`${what}: HTTP ${res.status} from the PACS${text ? ` (${text})` : ''}`);
        continue;
      }
      // 400, 406, 415…: the PACS will answer the same to the same request.
      throw new PacsRefused(`${what}: HTTP ${res.status} from the PACS${text ? ` (${text})` : ''}`);
    }
    throw last;
  }

  async function qido(path: string, what: string, signal?: AbortSignal): Promise<DicomJson[]> {
    const res = await request(path, { method: 'GET', headers: { accept: 'application/dicom+json' }, what }, signal);
    // 204 No Content is how some PACS say "no match" (PS3.18 §10.6.3.2).
    if (res.status === 204) return [];
    const text = await readBody(res, what, signal);
    if (!text.trim()) return [];
    try {
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed)) throw new Error('not an array');
      return parsed as DicomJson[];
    } catch {
      throw new PacsUnavailable(`${what}: the PACS answered something that is not a DICOM JSON array`);
    }
  }

  async function readBody(res: Response, what: string, signal?: AbortSignal): Promise<string> {
    try {
      return await res.text();
    } catch (err) {
      signal?.throwIfAborted();
      throw new PacsUnavailable(`${what}: the answer was cut short (${networkReason(err)})`, { cause: err });
    }
  }

  /** One instance's metadata: the series-level QIDO answer lacks thickness, Image Type and kernel. */
  async function firstInstanceMetadata(study: string, series: string): Promise<DicomJson | undefined> {
    const [inst] = await qido(`/studies/${study}/series/${series}/instances?limit=1`, 'QIDO-RS instances');
    const sop = str(inst, T.SOPInstanceUID);
    if (!isUid(sop)) return undefined; // nothing to ask for: selection goes without the instance attributes
    const res = await request(`/studies/${study}/series/${series}/instances/${sop}/metadata`, {
      method: 'GET',
      headers: { accept: 'application/dicom+json' },
      what: 'WADO-RS metadata',
    });
    const parsed = JSON.parse(await readBody(res, 'WADO-RS metadata')) as unknown;
    return Array.isArray(parsed) ? (parsed[0] as DicomJson | undefined) : undefined;
  }

  return {
    kind: 'dicomweb',

    async ping() {
      // The cheapest QIDO-RS request that proves both reachability and credentials.
      const res = await request('/studies?limit=1', { method: 'GET', headers: { accept: 'application/dicom+json' }, what: 'QIDO-RS ping' });
      await res.arrayBuffer().catch(() => undefined);
    },

    async findStudies(q) {
      const params = new URLSearchParams();
      const patientId = exactValue(q.patientId, 'PatientID');
      const accessionNumber = exactValue(q.accessionNumber, 'AccessionNumber');
      if (q.studyInstanceUid) params.set('StudyInstanceUID', q.studyInstanceUid);
      if (accessionNumber) params.set('AccessionNumber', accessionNumber);
      if (patientId) {
        params.set('PatientID', patientId);
        // A prior *CT* is wanted; a named study is fetched whatever it holds, so the case can say why not.
        if (!q.studyInstanceUid && !q.accessionNumber) params.set('ModalitiesInStudy', 'CT');
      }
      for (const tag of [T.PatientID, T.PatientName, T.PatientBirthDate, T.AccessionNumber, T.StudyDate, T.StudyDescription, T.ModalitiesInStudy]) params.append('includefield', tag);
      params.set('limit', String(limits.studies + 1));
      const rows = withinBound(await qido(`/studies?${params}`, 'QIDO-RS studies'), limits.studies, 'studies', 'QIDO-RS studies');
      return rows.flatMap((r): StudySummary[] => {
        const uid = str(r, T.StudyInstanceUID);
        if (!isUid(uid)) return []; // names no study ildflow could ask for
        return [
          {
            studyInstanceUid: uid,
            patientId: str(r, T.PatientID) ?? '',
            patientName: personName(r?.[T.PatientName]?.Value?.[0]),
            patientBirthDate: str(r, T.PatientBirthDate),
            accessionNumber: str(r, T.AccessionNumber),
            studyDate: str(r, T.StudyDate),
            studyDescription: str(r, T.StudyDescription),
            modalitiesInStudy: strs(r, T.ModalitiesInStudy),
          },
        ];
      });
    },

    async findSeries(studyInstanceUid) {
      pathUids('QIDO-RS series', studyInstanceUid);
      const params = new URLSearchParams();
      for (const tag of [T.Modality, T.SeriesDescription, T.SeriesNumber, T.NumberOfSeriesRelatedInstances, T.SeriesDate, T.BodyPartExamined])
        params.append('includefield', tag);
      params.set('limit', String(limits.series + 1));
      const rows = withinBound(await qido(`/studies/${studyInstanceUid}/series?${params}`, 'QIDO-RS series'), limits.series, 'series', 'QIDO-RS series');
      const out: SeriesSummary[] = [];
      for (const r of rows) {
        const seriesInstanceUid = str(r, T.SeriesInstanceUID);
        if (!isUid(seriesInstanceUid)) continue;
        const modality = str(r, T.Modality) ?? '';
        // Only CT series can be chosen, so only they cost a metadata request.
        const meta = modality === 'CT' ? await firstInstanceMetadata(studyInstanceUid, seriesInstanceUid) : undefined;
        const thickness = num(meta, T.SliceThickness);
        out.push({
          studyInstanceUid,
          seriesInstanceUid,
          modality,
          seriesDescription: str(r, T.SeriesDescription) ?? str(meta, T.SeriesDescription),
          seriesNumber: num(r, T.SeriesNumber),
          instanceCount: num(r, T.NumberOfSeriesRelatedInstances) ?? 0,
          imageType: meta ? strs(meta, T.ImageType) : undefined,
          sliceThicknessMm: thickness,
          convolutionKernel: str(meta, T.ConvolutionKernel),
          bodyPartExamined: str(r, T.BodyPartExamined) ?? str(meta, T.BodyPartExamined),
          acquisitionDate: str(meta, T.AcquisitionDate) ?? str(r, T.SeriesDate),
        });
      }
      return out;
    },

    async retrieveSeries(studyInstanceUid, seriesInstanceUid, destDir, signal): Promise<RetrievedSeries> {
      const what = 'WADO-RS series';
      pathUids(what, studyInstanceUid, seriesInstanceUid);
      // Ask for Explicit VR Little Endian (PS3.18 §8.7.3.5.2); a PACS that cannot transcode may still send
      // what it stores, which verifySpool decodes.
      const res = await requestStream(`/studies/${studyInstanceUid}/series/${seriesInstanceUid}`, `${DICOM_MULTIPART}; transfer-syntax=${TS.explicitLittle}`, what, signal);
      let boundary: string;
      try {
        boundary = boundaryOf(res.contentType);
      } catch (err) {
        res.body.destroy();
        throw new PacsRefused(`${what}: ${(err as Error).message}`);
      }
      const known: KnownInstances = new Map();
      const written = await streamParts(res.body, boundary, destDir, known, { idleMs: policy.idleMs, maxInstanceBytes: opts.maxInstanceBytes ?? DEFAULT_MAX_INSTANCE_BYTES }, signal);
      // The headers parsed from the stream as each part ended: those files are not read again (instance-head.ts).
      const check = await verifySpool(destDir, { studyInstanceUid, seriesInstanceUid }, known);
      return { dir: destDir, files: check.files, bytes: check.bytes || written };
    },

    async storeInstances(files, signal) {
      if (!files.length) return { stored: 0 };
      // Results are an SR and an Encapsulated PDF (small) and the engine's SEG (tens of MB for a large
      // series): the body streams from the files, never whole in memory, with a Content-Length computed
      // from their sizes (no chunked upload for PACS that refuse one).
      const boundary = `ildflow-${crypto.randomUUID()}`;
      const heads = files.map((f) => Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nContent-Location: ${basename(f)}\r\n\r\n`));
      const tail = Buffer.from(`--${boundary}--\r\n`);
      const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
      const length = heads.reduce((n, h, i) => n + h.length + sizes[i]! + 2, tail.length);
      async function* parts(): AsyncGenerator<Buffer> {
        for (const [i, f] of files.entries()) {
          yield heads[i]!;
          for await (const chunk of createReadStream(f)) yield chunk as Buffer;
          yield Buffer.from('\r\n');
        }
        yield tail;
      }
      const res = await request(
        '/studies',
        {
          method: 'POST',
          headers: { 'content-type': `${DICOM_MULTIPART}; boundary=${boundary}`, accept: 'application/dicom+json', 'content-length': String(length) },
          body: () => Readable.toWeb(Readable.from(parts())) as unknown as ReadableStream<Uint8Array>,
          what: 'STOW-RS',
        },
        signal,
      );
      // PS3.18 §10.5.3: 200 all stored; 202 some failed (FailedSOPSequence lists them).
      const text = await readBody(res, 'STOW-RS', signal);
      const answer = (text.trim() ? JSON.parse(text) : {}) as DicomJson;
      const failed = (answer[T.FailedSOPSequence]?.Value ?? []) as DicomJson[];
      const stored = ((answer[T.ReferencedSOPSequence]?.Value ?? []) as DicomJson[]).length;
      if (failed.length || res.status === 202 || stored < files.length) {
        const reasons = failed.map((f) => num(f, T.FailureReason)).filter((x) => x !== undefined);
        throw new PacsUnavailable(
          `STOW-RS: the PACS stored ${stored} of ${files.length} object(s)${reasons.length ? `; failure reasons ${reasons.map((r) => `0x${r.toString(16)}`).join(', ')} (PS3.4 Annex B.2.3)` : ''}`,
        );
      }
      return { stored };
    },
  };
}

/**
 * Splits the multipart body into one file per part, writing each chunk as it arrives, and parses each
 * part's header from its first bytes as it ends (into `known`; instance-head.ts). A body that ends before
 * the close delimiter, stalls for `idleMs`, or breaks off is a PacsUnavailable: the caller discards the
 * spool and the job is retried. A part above `maxInstanceBytes` is cut off where it crosses the cap, its file
 * deleted, and the transfer stopped: InvalidDicom (not retried).
 */
async function streamParts(
  body: Readable,
  boundary: string,
  destDir: string,
  known: KnownInstances,
  limits: Readonly<{ idleMs: number; maxInstanceBytes: number }>,
  signal: AbortSignal,
): Promise<number> {
  const { idleMs, maxInstanceBytes } = limits;
  const splitter = new MultipartSplitter(boundary);
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let file: WriteStream | null = null;
  let filePath = '';
  let head = new HeadCapture();
  // Files being flushed and closed while the next part streams in; bounded so memory stays flat.
  const closing = new Set<Promise<void>>();
  let bytes = 0;
  let partNo = 0; // not splitter.parts: one push can complete several parts before their events are handled
  let idle: NodeJS.Timeout | undefined;
  let stalled = false;
  const onAbort = () => void body.destroy(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      stalled = true;
      body.destroy(new Error('stalled'));
    }, idleMs);
  };
  try {
    arm();
    for (;;) {
      let step: IteratorResult<Buffer>;
      try {
        step = await chunks.next();
      } catch (err) {
        signal.throwIfAborted();
        throw new PacsUnavailable(`WADO-RS series: the transfer broke off after ${splitter.parts} part(s) (${stalled ? `no data for ${idleMs} ms` : networkReason(err)})`, { cause: err });
      }
      if (step.done) break;
      arm();
      let events;
      try {
        events = splitter.push(step.value);
      } catch (err) {
        throw new PacsUnavailable(`WADO-RS series: ${(err as Error).message}`, { cause: err });
      }
      for (const ev of events) {
        if (ev.type === 'part') {
          const ct = ev.headers['content-type'];
          if (ct && !/^application\/dicom\b/i.test(ct)) throw new PacsRefused(`WADO-RS series: a part is ${ct}, not application/dicom`);
          filePath = join(destDir, `${String(++partNo).padStart(6, '0')}.dcm`);
          file = createWriteStream(filePath, { flags: 'wx', highWaterMark: 1 << 20 });
          head = new HeadCapture();
        } else if (ev.type === 'data') {
          head.push(ev.chunk);
          if (head.bytes > maxInstanceBytes) {
            // Closed before it is deleted: a file still being opened would otherwise appear after the unlink.
            const cut = file!;
            file = null;
            await new Promise<void>((resolve) => cut.once('close', () => resolve()).destroy());
            body.destroy();
            await unlink(filePath).catch(() => undefined);
            throw instanceTooLarge(maxInstanceBytes, 'WADO-RS series');
          }
          bytes += ev.chunk.length;
          if (!file!.write(ev.chunk)) await Promise.race([once(file!, 'drain'), finished(file!)]);
        } else {
          const settled = head.known();
          if (settled) known.set(basename(filePath), settled);
          const done = finished(file!.end());
          closing.add(done);
          void done.finally(() => closing.delete(done)).catch(() => undefined);
          if (closing.size >= 8) await Promise.race(closing);
          file = null;
        }
      }
    }
    await Promise.all(closing); // every file flushed and closed (a write error surfaces here)
    signal.throwIfAborted();
    if (stalled) throw new PacsUnavailable(`WADO-RS series: no data for ${idleMs} ms after ${splitter.parts} part(s)`);
    try {
      splitter.finish();
    } catch (err) {
      if (err instanceof MultipartTruncated) throw new PacsUnavailable(`WADO-RS series: ${err.message}`, { cause: err });
      throw err;
    }
    return bytes;
  } finally {
    clearTimeout(idle);
    signal.removeEventListener('abort', onAbort);
    file?.destroy();
    await Promise.allSettled(closing);
    body.destroy();
  }
}

function authHeader(auth: string | undefined): string | undefined {
  if (!auth) return undefined;
  if (auth.startsWith('bearer:')) return `Bearer ${auth.slice(7)}`;
  if (auth.startsWith('basic:')) return `Basic ${Buffer.from(auth.slice(6)).toString('base64')}`;
  throw new Error('ILDFLOW_PACS_AUTH must be basic:user:password or bearer:token');
}

/** The reason fetch gives is in `cause` (undici): ECONNREFUSED, ECONNRESET, … */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

function str(r: DicomJson | undefined, tag: string): string | undefined {
  const v = r?.[tag]?.Value?.[0];
  if (v === undefined || v === null) return undefined;
  // PN values are objects ({ Alphabetic }): personName reads those.
  const s = String(v).trim();
  return s ? s : undefined;
}

function strs(r: DicomJson | undefined, tag: string): string[] {
  return (r?.[tag]?.Value ?? []).map((v) => String(v).trim()).filter(Boolean);
}

function num(r: DicomJson | undefined, tag: string): number | undefined {
  const v = r?.[tag]?.Value?.[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
