/**
 * The one module that touches dcmjs-dimse 0.3 (docs/design.md §5: "wrap it so its quirks stay in one adapter").
 * It turns the library's event callbacks into promises with bounded timeouts, and keeps its quirks here:
 *
 * - it logs every PDU at INFO: the level is set to `warn` once, on load;
 * - its C-STORE receivers buffer each instance in memory unless `createStoreWritableStream` is overridden;
 *   the SCP subclass overrides it, and for C-GET (whose C-STORE sub-operations arrive on the client's own
 *   association, PS3.4 C.4.3) the client's private `network` object is patched right after `send()`;
 * - `Server.listen(port)` binds every interface: it hands its argument to net.Server.listen, so the C-MOVE
 *   receiver passes `{ port, host }` to bind the configured interface only; it also refuses associations
 *   whose calling AE title is not the PACS's and that arrive while no C-MOVE of ours is pending.
 *
 * Every instance is written to a staging name, then its Study/Series Instance UIDs are read back from the
 * file and it is accepted only when it belongs to a series this process asked for; anything else is
 * deleted and answered with a failure status (PS3.4 Annex B.2.3, 0xC000 "cannot understand").
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import dicomParser from 'dicom-parser';
import dcmjs from 'dcmjs';
import type * as Dimse from 'dcmjs-dimse';
import { DECODABLE_TRANSFER_SYNTAXES, USABLE_TRANSFER_SYNTAXES } from '../dicom/transfer-syntax.js';
import { PacsUnavailable } from '../errors.js';
import { instanceTooLarge } from './instance-cap.js';
import { PacsRefused } from './pacs-errors.js';
import { withinBound, type MatchLimits } from './query-bounds.js';

const require = createRequire(import.meta.url);
const dimse = require('dcmjs-dimse') as typeof Dimse;
dimse.log.setLevel('warn');

const { Client, Server, Scp, Dataset } = dimse;
const { CEchoRequest, CFindRequest, CGetRequest, CMoveRequest, CStoreRequest } = dimse.requests;
const { CStoreResponse } = dimse.responses;
const { Status, PresentationContextResult, RejectResult, RejectSource, RejectReason, TransferSyntax } = dimse.constants;

export type Peer = Readonly<{ host: string; port: number; calledAet: string; callingAet: string; timeoutMs: number }>;

type Elements = Record<string, unknown>;

/** CT Image Storage (PS3.4 B.5): the one storage class ildflow analyses. */
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

/** Transfer syntaxes we accept for incoming C-STORE, preferred first: uncompressed, then what decode-instance.ts decodes. */
const ACCEPTED_TS = USABLE_TRANSFER_SYNTAXES;

/** PS3.4 Annex B.2.3: "Error: Cannot understand" — used to refuse an instance nobody asked for. */
const STATUS_CANNOT_UNDERSTAND = 0xc000;
/** PS3.4 Annex B.2.3: "Refused: Out of Resources" — an instance above the per-instance cap. */
const STATUS_OUT_OF_RESOURCES = 0xa700;

/** Instances refused for their size, per series asked for (C-GET and C-MOVE report them after the retrieval). */
const oversized = new Map<string, number>();

/** Throws for good when the series had an instance above the cap: it is as large on every retry. */
function refuseOversized(what: string, seriesInstanceUid: string, cap: number): void {
  const n = oversized.get(seriesInstanceUid);
  oversized.delete(seriesInstanceUid);
  if (n) throw instanceTooLarge(cap, what);
}

function clientOptions(peer: Peer) {
  return { connectTimeout: peer.timeoutMs, associationTimeout: peer.timeoutMs, pduTimeout: peer.timeoutMs };
}

/**
 * Runs one association with the given requests and resolves when it is closed. Network errors and a
 * closed association before every request answered become PacsUnavailable; a rejected association
 * (PS3.8 §7.1.1.9: wrong AE title, not configured) becomes PacsRefused unless the rejection is transient.
 */
function runAssociation(peer: Peer, client: Dimse.Client, what: string, afterSend?: (client: Dimse.Client) => void, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failure: Error | null = null;
    const onAbort = () => {
      failure = signal!.reason as Error;
      client.abort();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('networkError', (e: Error) => {
      failure ??= new PacsUnavailable(`${what}: ${e.message || String(e)} (${peer.calledAet}@${peer.host}:${peer.port})`, { cause: e });
    });
    client.on('associationRejected', (r: { result: number; source: number; reason: number }) => {
      const transient = r.result === RejectResult.Transient;
      const msg = `${what}: ${peer.calledAet}@${peer.host}:${peer.port} rejected the association from ${peer.callingAet} (result ${r.result}, source ${r.source}, reason ${r.reason}; PS3.8 §9.3.4) — check that the PACS knows this AE title`;
      failure ??= transient ? new PacsUnavailable(msg) : new PacsRefused(msg);
    });
    client.on('closed', () => {
      signal?.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else resolve();
    });
    try {
      client.send(peer.host, peer.port, peer.callingAet, peer.calledAet, clientOptions(peer));
      // Quirk: the library leaves Nagle on; with many small PDUs on loopback that costs ~40 ms a round trip.
      (client as unknown as { network?: { socket?: { setNoDelay?(on: boolean): void } } }).network?.socket?.setNoDelay?.(true);
      afterSend?.(client);
    } catch (err) {
      signal?.removeEventListener('abort', onAbort);
      reject(new PacsUnavailable(`${what}: ${(err as Error).message}`, { cause: err }));
    }
  });
}

/** Pending, success, cancel and warning statuses (PS3.7 Annex C); anything else is a failure. */
function isPending(status: number): boolean {
  return status === Status.Pending || status === 0xff01;
}

export async function echo(peer: Peer): Promise<void> {
  const client = new Client();
  const req = new CEchoRequest();
  let status: number | undefined;
  req.on('response', (res: Dimse.responses.CEchoResponse) => void (status = res.getStatus()));
  client.addRequest(req);
  await runAssociation(peer, client, 'C-ECHO');
  if (status !== Status.Success) throw new PacsUnavailable(`C-ECHO: status 0x${(status ?? 0xffff).toString(16)} from ${peer.calledAet}`);
}

/**
 * C-FIND at STUDY, SERIES or IMAGE level of the Study Root information model (PS3.4 C.6.2). Reads at most
 * `bound.limit` matches: at the one after, it stops the PACS by aborting the association (PS3.8 §7.3
 * A-ABORT; dcmjs-dimse 0.3 sends a request's C-CANCEL only with requests queued before the association
 * opens) and throws TooManyMatches (query-bounds.ts).
 */
export async function find(
  peer: Peer,
  level: 'STUDY' | 'SERIES' | 'IMAGE',
  query: Elements,
  bound: Readonly<{ limit: number; kind: keyof MatchLimits }>,
): Promise<Elements[]> {
  const client = new Client();
  const stop = new AbortController();
  const req =
    level === 'STUDY' ? CFindRequest.createStudyFindRequest(query) : level === 'SERIES' ? CFindRequest.createSeriesFindRequest(query) : CFindRequest.createImageFindRequest(query);
  const rows: Elements[] = [];
  let final: number | undefined;
  let comment = '';
  req.on('response', (res: Dimse.responses.CFindResponse) => {
    const status = res.getStatus();
    if (isPending(status)) {
      const ds = res.getDataset();
      if (ds) rows.push(ds.getElements());
      if (rows.length > bound.limit && !stop.signal.aborted) {
        try {
          withinBound(rows, bound.limit, bound.kind, `C-FIND ${level}`);
        } catch (err) {
          stop.abort(err);
        }
      }
    } else {
      final = status;
      comment = res.getErrorComment?.() ?? '';
    }
  });
  client.addRequest(req);
  await runAssociation(peer, client, `C-FIND ${level}`, undefined, stop.signal);
  if (final === undefined) throw new PacsUnavailable(`C-FIND ${level}: the association closed before the final response`);
  if (final !== Status.Success) throw new PacsUnavailable(`C-FIND ${level}: status 0x${final.toString(16)}${comment ? ` (${comment})` : ''}`);
  return rows;
}

export type Expected = Readonly<{ studyInstanceUid: string; seriesInstanceUid: string; destDir: string }>;

type SubOpsResult = { completed: number; failed: number; warnings: number; status?: number; comment: string };

function subOpsTracker() {
  const r: SubOpsResult = { completed: 0, failed: 0, warnings: 0, comment: '' };
  const onResponse = (res: Dimse.responses.CGetResponse | Dimse.responses.CMoveResponse) => {
    const status = res.getStatus();
    r.completed = res.getCompleted?.() ?? r.completed;
    r.failed = res.getFailures?.() ?? r.failed;
    r.warnings = res.getWarnings?.() ?? r.warnings;
    if (!isPending(status)) {
      r.status = status;
      r.comment = res.getErrorComment?.() ?? '';
    }
  };
  return { r, onResponse };
}

function checkSubOps(what: string, r: SubOpsResult, refused: number): void {
  if (r.status === undefined) throw new PacsUnavailable(`${what}: the association closed before the final response`);
  // PS3.4 C.4.2.1.5 / C.4.3.1.5: 0xB000 means some sub-operations failed; 0xA7xx/0xC000 the whole request.
  if (r.status !== Status.Success || r.failed > 0 || refused > 0)
    throw new PacsUnavailable(
      `${what}: status 0x${r.status.toString(16)}, ${r.completed} sent, ${r.failed} failed${refused ? `, ${refused} refused as not asked for` : ''}${r.comment ? ` (${r.comment})` : ''}`,
    );
}

/**
 * C-GET of one series (PS3.4 C.4.3): the PACS sends the instances back on this association as C-STORE
 * sub-operations, each streamed to `destDir`.
 */
export async function getSeries(peer: Peer, expected: Expected, signal: AbortSignal, maxInstanceBytes: number): Promise<void> {
  const client = new Client();
  const req = CGetRequest.createSeriesGetRequest(expected.studyInstanceUid, expected.seriesInstanceUid);
  const { r, onResponse } = subOpsTracker();
  req.on('response', onResponse);
  const receiver = new Receiver(() => [expected], expected.destDir, maxInstanceBytes);
  client.on('cStoreRequest', (request: Dimse.requests.CStoreRequest, callback: (res: Dimse.responses.CStoreResponse) => void) => {
    void receiver.complete(request).then((status) => {
      const res = CStoreResponse.fromRequest(request);
      res.setStatus(status);
      callback(res);
    });
  });
  client.addRequest(req);
  // The library proposes every storage class in the two uncompressed syntaxes only, so a PACS had to decode
  // whatever it stores before sending it — a 16-frame 4096² JPEG-LS bomb cost 30 s in Orthanc and 560 MiB here
  // before the per-instance cap refused it. One context per decodable syntax for CT Image Storage lets the PACS
  // send what it stores, which the spool check refuses from its header (decode-instance.ts). Quirk: dcmjs-dimse
  // 0.3 sends no SCP/SCU role selection (PS3.7 D.3.3.4) for added contexts; Orthanc uses them without it, a
  // PACS that insists on it ignores them and transcodes as before.
  for (const ts of DECODABLE_TRANSFER_SYNTAXES)
    client.addAdditionalPresentationContext(new dimse.association.PresentationContext(0, CT_IMAGE_STORAGE, ts, undefined, false, true), true);
  await runAssociation(
    peer,
    client,
    'C-GET',
    (c) => {
      // Quirk: the client's Network object is created inside send() and buffers incoming C-STOREs in
      // memory; point its two stream hooks at the receiver instead.
      const network = (c as unknown as { network?: StreamHooks }).network;
      if (!network) throw new Error('dcmjs-dimse Client has no network after send(): adapter needs updating');
      network.createStoreWritableStream = (ctx, request) => receiver.open(ctx, request);
      network.createDatasetFromStoreWritableStream = (writable, ctx, cb) => receiver.close(writable, ctx, cb);
    },
    signal,
  );
  await receiver.settled();
  refuseOversized('C-GET', expected.seriesInstanceUid, maxInstanceBytes);
  checkSubOps('C-GET', r, receiver.refused);
}

type StreamHooks = {
  createStoreWritableStream(ctx: Dimse.association.PresentationContext, request: Dimse.requests.CStoreRequest): Writable;
  createDatasetFromStoreWritableStream(writable: Writable, ctx: Dimse.association.PresentationContext, cb: (ds: Dimse.Dataset) => void): void;
};

/**
 * Streams incoming C-STORE data sets to disk as Part 10 files (PS3.10 §7: preamble, "DICM", file meta
 * group, then the data set bytes as received in the accepted transfer syntax), then files each one under
 * the series it belongs to — or deletes it. A data set above `maxBytes` is not written past the cap (the
 * rest is dropped as it arrives), then deleted and refused with 0xA700 (instance-cap.ts).
 */
class Receiver {
  private readonly staged = new WeakMap<object, { path: string; stream: WriteStream; bytes: number }>();
  private readonly pending = new Set<Promise<unknown>>();
  refused = 0;
  received = 0;

  constructor(
    private readonly wanted: () => readonly Expected[],
    private readonly stagingDir: string,
    private readonly maxBytes: number,
  ) {}

  open(ctx: Dimse.association.PresentationContext, request: Dimse.requests.CStoreRequest): Writable {
    const path = join(this.stagingDir, `.incoming-${randomUUID()}`);
    const stream = createWriteStream(path);
    stream.on('error', () => undefined); // surfaced when the file is read back
    stream.write(part10Header(request.getAffectedSopClassUid(), request.getAffectedSopInstanceUid(), ctx.getAcceptedTransferSyntaxUid() ?? TransferSyntax.ImplicitVRLittleEndian));
    const entry = { path, stream, bytes: 0 };
    this.staged.set(request, entry);
    // Counts what the library hands over; past the cap it is dropped, so the file stops at the cap (its
    // first bytes still name the series the refusal is reported for).
    return new CappedWriter(stream, this.maxBytes, (n) => void (entry.bytes += n));
  }

  close(writable: Writable, ctx: Dimse.association.PresentationContext, cb: (ds: Dimse.Dataset) => void): void {
    // The library hands over the stream once the last fragment is written; finish it before answering.
    writable.end(() => cb(new Dataset({}, ctx.getAcceptedTransferSyntaxUid())));
  }

  /** Files the staged instance of `request` and answers the C-STORE status. */
  complete(request: Dimse.requests.CStoreRequest): Promise<number> {
    const p = this.file(request);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private async file(request: Dimse.requests.CStoreRequest): Promise<number> {
    const staged = this.staged.get(request);
    if (!staged) return STATUS_CANNOT_UNDERSTAND;
    if (staged.bytes > this.maxBytes) {
      const id = await readIdentity(staged.path).catch(() => null);
      await unlink(staged.path).catch(() => undefined);
      const series = id && this.wanted().find((e) => e.seriesInstanceUid === id.seriesInstanceUid)?.seriesInstanceUid;
      if (series) oversized.set(series, (oversized.get(series) ?? 0) + 1);
      else this.refused++;
      return STATUS_OUT_OF_RESOURCES;
    }
    try {
      const id = await readIdentity(staged.path);
      const target = this.wanted().find((e) => e.studyInstanceUid === id.studyInstanceUid && e.seriesInstanceUid === id.seriesInstanceUid);
      if (!target || !/^[0-9.]{1,64}$/.test(id.sopInstanceUid)) throw new Error('not asked for');
      await rename(staged.path, join(target.destDir, `${id.sopInstanceUid}.dcm`));
      this.received++;
      return Status.Success;
    } catch {
      this.refused++;
      await unlink(staged.path).catch(() => undefined);
      return STATUS_CANNOT_UNDERSTAND;
    }
  }
}

/** Writes the first `cap` bytes it is given to `file` and drops the rest (`seen` counts all); ending it ends the file. */
class CappedWriter extends Writable {
  private written = 0;

  constructor(
    private readonly file: WriteStream,
    private readonly cap: number,
    private readonly seen: (bytes: number) => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.seen(chunk.length);
    const room = Math.max(0, this.cap - this.written);
    const kept = room >= chunk.length ? chunk : chunk.subarray(0, room);
    this.written += kept.length;
    if (!kept.length || this.file.write(kept)) done();
    else this.file.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.file.end(() => done());
  }
}

let metaEncoder: ((sopClass: string, sopInstance: string, ts: string) => Buffer) | null = null;

/** Preamble, "DICM" and the File Meta Information group (PS3.10 §7.1), encoded by dcmjs. */
function part10Header(sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string): Buffer {
  metaEncoder ??= (sopClass, sopInstance, ts) => {
    const { DicomDict, DicomMetaDictionary } = dcmjs.data;
    const dict = new DicomDict(
      DicomMetaDictionary.denaturalizeDataset({
        FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
        MediaStorageSOPClassUID: sopClass,
        MediaStorageSOPInstanceUID: sopInstance,
        TransferSyntaxUID: ts,
        ImplementationClassUID: '1.2.826.0.1.3680043.10.1426.1',
        ImplementationVersionName: 'ILDFLOW',
      }),
    );
    dict.dict = {};
    return Buffer.from(dict.write() as ArrayBuffer);
  };
  return metaEncoder(sopClassUid, sopInstanceUid, transferSyntaxUid);
}

/** Study, Series and SOP Instance UIDs of a staged Part 10 file, from its first 64 KiB (any transfer syntax). */
async function readIdentity(path: string): Promise<{ studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string }> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const ds = dicomParser.parseDicom(buf.subarray(0, bytesRead) as never, { untilTag: 'x7fe00010' });
    const s = (tag: string) => ds.string(tag)?.replace(/\0/g, '').trim() ?? '';
    return { studyInstanceUid: s('x0020000d'), seriesInstanceUid: s('x0020000e'), sopInstanceUid: s('x00080018') };
  } finally {
    await fh.close();
  }
}

/** What the C-MOVE receiver (our C-STORE SCP) is waiting for, per series. */
const moves = new Map<string, Expected>();

export type MoveReceiver = Readonly<{ port: number; close(): void }>;

/**
 * Starts the C-STORE SCP that C-MOVE sends to (PS3.4 C.4.2: the PACS opens a new association to the
 * move destination). It accepts associations only from `pacsAet`, only while a move is pending, and only
 * storage SOP classes in the transfer syntaxes of ACCEPTED_TS.
 */
export function startMoveReceiver(at: Readonly<{ port: number; host: string }>, ourAet: string, pacsAet: string, maxInstanceBytes: number): MoveReceiver {
  class MoveScp extends Scp {
    private receiver: Receiver | null = null;

    constructor(socket: ConstructorParameters<typeof Scp>[0], opts?: ConstructorParameters<typeof Scp>[1]) {
      super(socket, opts);
      socket.setNoDelay(true);
    }

    override associationRequested(association: Dimse.association.Association): void {
      const first = moves.values().next().value;
      if (association.getCallingAeTitle() !== pacsAet || association.getCalledAeTitle() !== ourAet || !first) {
        this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
        return;
      }
      // Staged beside the first pending spool (same file system as every spool, so rename works).
      this.receiver = new Receiver(() => [...moves.values()], dirname(first.destDir), maxInstanceBytes);
      for (const c of association.getPresentationContexts()) {
        const ctx = association.getPresentationContext(c.id);
        const offered = ctx.getTransferSyntaxUids();
        const ts = ACCEPTED_TS.find((t) => offered.includes(t));
        if (!ctx.getAbstractSyntaxUid().startsWith('1.2.840.10008.5.1.4.1.1.')) ctx.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
        else if (!ts) ctx.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
        else ctx.setResult(PresentationContextResult.Accept, ts);
      }
      this.sendAssociationAccept();
    }

    override createStoreWritableStream(ctx: Dimse.association.PresentationContext, request: Dimse.requests.CStoreRequest): Writable {
      return this.receiver!.open(ctx, request);
    }

    override createDatasetFromStoreWritableStream(writable: Writable, ctx: Dimse.association.PresentationContext, cb: (ds: Dimse.Dataset) => void): void {
      this.receiver!.close(writable, ctx, cb);
    }

    override cStoreRequest(request: Dimse.requests.CStoreRequest, callback: (res: Dimse.responses.CStoreResponse) => void): void {
      void this.receiver!.complete(request).then((status) => {
        const res = CStoreResponse.fromRequest(request);
        res.setStatus(status);
        callback(res);
      });
    }

    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }
  }
  const server = new Server(MoveScp);
  server.on('networkError', () => undefined); // per-association errors surface as missing instances
  // Quirk: the library types listen(port) but passes it on to net.Server.listen, which takes { port, host }.
  server.listen({ port: at.port, host: at.host } as unknown as number);
  return { port: at.port, close: () => server.close() };
}

/**
 * C-MOVE of one series to our own AE title (PS3.4 C.4.2). The receiver must be running; the series is
 * registered with it for the duration of the move, so it accepts exactly these instances.
 */
export async function moveSeries(peer: Peer, destinationAet: string, expected: Expected, signal: AbortSignal, maxInstanceBytes: number): Promise<void> {
  if (moves.has(expected.seriesInstanceUid)) throw new PacsUnavailable('C-MOVE: this series is already being moved by another job');
  moves.set(expected.seriesInstanceUid, expected);
  try {
    const client = new Client();
    const req = CMoveRequest.createSeriesMoveRequest(destinationAet, expected.studyInstanceUid, expected.seriesInstanceUid);
    const { r, onResponse } = subOpsTracker();
    req.on('response', onResponse);
    client.addRequest(req);
    await runAssociation(peer, client, 'C-MOVE', undefined, signal);
    refuseOversized('C-MOVE', expected.seriesInstanceUid, maxInstanceBytes);
    checkSubOps('C-MOVE', r, 0);
  } finally {
    moves.delete(expected.seriesInstanceUid);
    oversized.delete(expected.seriesInstanceUid);
  }
}

/** C-STORE of Part 10 files (PS3.4 B.2), on one association; resolves with the number stored. */
export async function storeFiles(peer: Peer, files: readonly string[]): Promise<number> {
  const client = new Client();
  const statuses: number[] = [];
  for (const f of files) {
    const req = new CStoreRequest(f);
    req.on('response', (res: Dimse.responses.CStoreResponse) => void statuses.push(res.getStatus()));
    client.addRequest(req);
  }
  await runAssociation(peer, client, 'C-STORE');
  // 0xB000–0xB007 are warnings (stored, with coercion); PS3.4 B.2.3.
  const ok = statuses.filter((s) => s === Status.Success || (s >= 0xb000 && s <= 0xb007)).length;
  if (ok < files.length)
    throw new PacsUnavailable(`C-STORE: the PACS stored ${ok} of ${files.length} object(s) (statuses ${[...new Set(statuses)].map((s) => `0x${s.toString(16)}`).join(', ') || 'none'})`);
  return ok;
}
