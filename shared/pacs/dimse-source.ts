/**
 * `dicom://AET@host:port?retrieve=c-get|c-move&calling=AET&port=N`: a DIMSE PACS. C-ECHO for readiness
 * (PS3.4 A), C-FIND in the Study Root model (PS3.4 C.6.2) for studies and series — plus an IMAGE-level
 * C-FIND for what series selection needs (Image Type, thickness, kernel are instance attributes) —
 * C-GET (PS3.4 C.4.3) or C-MOVE (C.4.2, to our own C-STORE SCP on `port`) for the series, and C-STORE
 * (PS3.4 B) for results. The protocol library's quirks stay in dimse-adapter.ts.
 *
 * `calling` is our AE title (default ILDFLOW); the PACS must list it (with this host and `port` for
 * C-MOVE) among its known modalities, or it answers no query (docs/pacs.md). `listen` is the interface the
 * C-MOVE receiver binds (default 127.0.0.1).
 */
import { isIP } from 'node:net';
import { personName } from '../dicom/person-name.js';
import { ConfigInvalid, PacsUnavailable } from '../errors.js';
import { echo, find, getSeries, moveSeries, SeriesInbox, startMoveReceiver, storeFiles, type MoveReceiver, type Peer } from './dimse-adapter.js';
import { DEFAULT_MAX_INSTANCE_BYTES } from './instance-cap.js';
import { PacsRefused } from './pacs-errors.js';
import { DEFAULT_MATCH_LIMITS, exactValue, type MatchLimits } from './query-bounds.js';
import { DEFAULT_RETRY, sleep, type RetryPolicy } from './retry-policy.js';
import type { ImageSource, RetrievedSeries, SeriesSummary, StudySummary } from './source.js';
import { verifySpool } from './verify-spool.js';

/**
 * `listenHost`: the interface the C-MOVE receiver binds (`listen=`, default loopback). The receiver checks
 * only AE titles, which any host that reaches it can claim, so it is opened wider only when asked: a PACS on
 * another host needs `listen=` set to the interface it reaches (or 0.0.0.0 behind a firewall).
 */
export type DimseUrl = Readonly<{ peer: Omit<Peer, 'timeoutMs'>; retrieve: 'c-get' | 'c-move'; scpPort?: number; listenHost: string }>;

/** AE titles are 1–16 characters of the default repertoire, no backslash or control characters (PS3.5 §6.2 "AE"). */
const AE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

/** Parses ILDFLOW_PACS's DIMSE form; lists every problem at once (ConfigInvalid). */
export function parseDimseUrl(url: string): DimseUrl {
  const problems: string[] = [];
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigInvalid([`ILDFLOW_PACS: ${url} is not a URL; use dicom://AET@host:port?retrieve=c-get|c-move&calling=AET&port=N`]);
  }
  const calledAet = decodeURIComponent(u.username);
  const callingAet = u.searchParams.get('calling') ?? 'ILDFLOW';
  const retrieve = (u.searchParams.get('retrieve') ?? 'c-get').toLowerCase();
  const port = Number(u.port || 104);
  const scp = u.searchParams.get('port');
  const listenHost = u.searchParams.get('listen') ?? '127.0.0.1';
  if (!isIP(listenHost)) problems.push('ILDFLOW_PACS: listen= must be an IP address (the interface the C-MOVE receiver binds; default 127.0.0.1)');
  if (!AE.test(calledAet)) problems.push('ILDFLOW_PACS: the called AE title (dicom://AET@host:port) must be 1–16 characters');
  if (!AE.test(callingAet)) problems.push('ILDFLOW_PACS: calling= must be an AE title of 1–16 characters');
  if (retrieve !== 'c-get' && retrieve !== 'c-move') problems.push('ILDFLOW_PACS: retrieve= must be c-get or c-move');
  if (!u.hostname) problems.push('ILDFLOW_PACS: a host is required');
  const scpPort = scp === null ? undefined : Number(scp);
  if (retrieve === 'c-move' && (scpPort === undefined || !Number.isInteger(scpPort) || scpPort < 1 || scpPort > 65535))
    problems.push('ILDFLOW_PACS: retrieve=c-move needs port=N, where our C-STORE SCP listens for the PACS');
  if (problems.length) throw new ConfigInvalid(problems);
  return { peer: { host: u.hostname, port, calledAet, callingAet }, retrieve: retrieve as 'c-get' | 'c-move', scpPort, listenHost };
}

export function createDimseSource(
  url: string,
  opts: { retry?: Partial<RetryPolicy>; maxMatches?: Partial<MatchLimits>; maxInstanceBytes?: number } = {},
): ImageSource & { close(): Promise<void> } {
  const cfg = parseDimseUrl(url);
  const limits: MatchLimits = { ...DEFAULT_MATCH_LIMITS, ...opts.maxMatches };
  const maxInstanceBytes = opts.maxInstanceBytes ?? DEFAULT_MAX_INSTANCE_BYTES;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const peer: Peer = { ...cfg.peer, timeoutMs: policy.timeoutMs };
  let receiver: MoveReceiver | null = null;

  /** Bounded tries of one request; a refusal is tried as often, then reported (it will not fix itself). */
  async function tries<T>(fn: () => Promise<T>): Promise<T> {
    let last: Error = new PacsUnavailable('no attempt made');
    for (let attempt = 1; attempt <= policy.attempts; attempt++) {
      if (attempt > 1) await sleep(policy.delayMs * 2 ** (attempt - 2));
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof PacsUnavailable) && !(err instanceof PacsRefused)) throw err;
        last = err;
      }
    }
    throw last;
  }

  return {
    kind: 'dimse',

    ping: () => tries(() => echo(peer)),

    async findStudies(q) {
      const query: Record<string, unknown> = {
        PatientID: exactValue(q.patientId, 'PatientID') ?? '',
        PatientName: '',
        PatientBirthDate: '',
        StudyInstanceUID: q.studyInstanceUid ?? '',
        AccessionNumber: exactValue(q.accessionNumber, 'AccessionNumber') ?? '',
        StudyDate: '',
        StudyDescription: '',
        ModalitiesInStudy: q.patientId && !q.studyInstanceUid && !q.accessionNumber ? 'CT' : '',
      };
      const rows = await tries(() => find(peer, 'STUDY', query, { limit: limits.studies, kind: 'studies' }));
      return rows.flatMap((r): StudySummary[] => {
        const uid = str(r.StudyInstanceUID);
        if (!uid) return [];
        return [
          {
            studyInstanceUid: uid,
            patientId: str(r.PatientID) ?? '',
            patientName: personName(r.PatientName),
            patientBirthDate: str(r.PatientBirthDate),
            accessionNumber: str(r.AccessionNumber),
            studyDate: str(r.StudyDate),
            studyDescription: str(r.StudyDescription),
            modalitiesInStudy: strs(r.ModalitiesInStudy),
          },
        ];
      });
    },

    async findSeries(studyInstanceUid) {
      const rows = await tries(() =>
        find(peer, 'SERIES', {
          StudyInstanceUID: studyInstanceUid,
          SeriesInstanceUID: '',
          Modality: '',
          SeriesDescription: '',
          SeriesNumber: '',
          NumberOfSeriesRelatedInstances: '',
          BodyPartExamined: '',
          SeriesDate: '',
        }, { limit: limits.series, kind: 'series' }),
      );
      const out: SeriesSummary[] = [];
      for (const r of rows) {
        const seriesInstanceUid = str(r.SeriesInstanceUID);
        if (!seriesInstanceUid) continue;
        const modality = str(r.Modality) ?? '';
        const images =
          modality === 'CT'
            ? await tries(() =>
                find(peer, 'IMAGE', {
                  StudyInstanceUID: studyInstanceUid,
                  SeriesInstanceUID: seriesInstanceUid,
                  SOPInstanceUID: '',
                  ImageType: '',
                  SliceThickness: '',
                  ConvolutionKernel: '',
                  AcquisitionDate: '',
                }, { limit: limits.instances, kind: 'instances' }),
              )
            : [];
        const first = images[0];
        out.push({
          studyInstanceUid,
          seriesInstanceUid,
          modality,
          seriesDescription: str(r.SeriesDescription),
          seriesNumber: num(r.SeriesNumber),
          // Some PACS leave the series count out; the IMAGE-level answer counts the instances then.
          instanceCount: num(r.NumberOfSeriesRelatedInstances) ?? images.length,
          imageType: first ? strs(first.ImageType) : undefined,
          sliceThicknessMm: num(first?.SliceThickness),
          convolutionKernel: str(first?.ConvolutionKernel),
          bodyPartExamined: str(r.BodyPartExamined),
          acquisitionDate: str(first?.AcquisitionDate) ?? str(r.SeriesDate),
        });
      }
      return out;
    },

    async retrieveSeries(studyInstanceUid, seriesInstanceUid, destDir, signal): Promise<RetrievedSeries> {
      const inbox = new SeriesInbox();
      const expected = { studyInstanceUid, seriesInstanceUid, destDir, inbox };
      if (cfg.retrieve === 'c-get') await getSeries(peer, expected, signal, maxInstanceBytes);
      else {
        receiver ??= startMoveReceiver({ port: cfg.scpPort!, host: cfg.listenHost }, cfg.peer.callingAet, cfg.peer.calledAet, maxInstanceBytes);
        await moveSeries(peer, cfg.peer.callingAet, expected, signal, maxInstanceBytes);
      }
      // The headers the receiver parsed on the way in: those files are not read again (instance-head.ts).
      const check = await verifySpool(destDir, { studyInstanceUid, seriesInstanceUid }, inbox.known);
      return { dir: destDir, files: check.files, bytes: check.bytes };
    },

    async storeInstances(files, signal) {
      signal.throwIfAborted();
      if (!files.length) return { stored: 0 };
      return { stored: await tries(() => storeFiles(peer, files)) };
    },

    async close() {
      receiver?.close();
      receiver = null;
    },
  };
}

function str(v: unknown): string | undefined {
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined || first === null) return undefined;
  const s = String(first).trim();
  return s ? s : undefined;
}

function strs(v: unknown): string[] {
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split('\\') : [];
  return list.map((x) => String(x).trim()).filter(Boolean);
}

function num(v: unknown): number | undefined {
  const s = str(v);
  const n = s === undefined ? NaN : Number(s);
  return Number.isFinite(n) ? n : undefined;
}
