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
 * - its PDU accumulator concatenates every socket chunk onto the PDU so far and never pauses the socket:
 *   `framePdus` replaces it on every association (pdu-framer.ts) and pauses the socket while the spool
 *   files are behind, so memory stays flat whatever the PACS sends (docs/design.md §8);
 * - it honours a receiving stream's backpressure only until its first 'drain': the receivers never buffer
 *   (CappedWriter), the framer's pause does it instead.
 *
 * Every instance is written to a staging name while its first bytes are kept (instance-head.ts); when it
 * ends, its header is parsed from those bytes, once, and it is accepted only when it belongs to a series this
 * process asked for; anything else is deleted and answered with a failure status (PS3.4 Annex B.2.3, 0xC000
 * "cannot understand"). The answer does not wait for the file to be flushed and renamed: that overlaps the
 * next instance, and a write that fails leaves the series short, which the spool check retries.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type * as Dimse from 'dcmjs-dimse';
import { encodeFileMeta } from '../dicom/file-meta.js';
import { identityOf } from '../dicom/read-instance.js';
import { DECODABLE_TRANSFER_SYNTAXES, USABLE_TRANSFER_SYNTAXES } from '../dicom/transfer-syntax.js';
import { PacsUnavailable } from '../errors.js';
import { instanceTooLarge } from './instance-cap.js';
import { cStoreResponsePdu } from './c-store-response.js';
import { HeadCapture, type KnownInstances } from './instance-head.js';
import { endsCommand, PduFramer } from './pdu-framer.js';
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
function runAssociation(
  peer: Peer,
  client: Dimse.Client,
  what: string,
  afterSend?: (client: Dimse.Client) => void,
  signal?: AbortSignal,
  room?: () => Promise<void> | undefined,
): Promise<void> {
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
      const network = (client as unknown as { network?: NetworkInternals }).network;
      if (!network?.socket) throw new Error('dcmjs-dimse Client has no network after send(): adapter needs updating');
      network.socket.setNoDelay(true);
      framePdus(network, room);
      afterSend?.(client);
    } catch (err) {
      signal?.removeEventListener('abort', onAbort);
      reject(new PacsUnavailable(`${what}: ${(err as Error).message}`, { cause: err }));
    }
  });
}

/** The parts of dcmjs-dimse 0.3's Network (the Client's `network`, or an Scp itself) the framer replaces or drives. */
type NetworkInternals = {
  socket: Socket;
  lastPduTime?: number;
  /** The DIMSE message being received, and the memory stream collecting its command (or its data set). */
  dimse?: unknown;
  dimseStream?: unknown;
  statistics?: { addBytesReceived(n: number): void };
  _processPdu(pdu: Buffer): Promise<void>;
  emit(event: string, ...args: unknown[]): boolean;
};

/**
 * The largest PDU accepted: dcmjs-dimse proposes 256 KiB as our maximum length (PS3.8 D.1), which bounds
 * P-DATA-TF; association PDUs with every presentation context stay far below 1 MiB.
 */
const MAX_PDU_BYTES = 1024 * 1024;

/**
 * Replaces the library's accumulator on `network`'s socket (see the header): PDUs are framed without
 * per-chunk concatenation and processed one at a time, and while `room()` says the spool files are behind
 * the socket is paused, so TCP holds the PACS back instead of this process's memory.
 */
function framePdus(network: NetworkInternals, room: () => Promise<void> | undefined = () => undefined): void {
  const socket = network.socket;
  if (socket.listenerCount('data') !== 1) throw new Error(`dcmjs-dimse socket has ${socket.listenerCount('data')} data listeners, 1 expected: adapter needs updating`);
  socket.removeAllListeners('data');
  const framer = new PduFramer(MAX_PDU_BYTES);
  const queue: Buffer[] = [];
  let draining = false;
  const drain = async () => {
    draining = true;
    try {
      while (queue.length) {
        const pdu = queue.shift()!;
        network.lastPduTime = Date.now();
        await network._processPdu(pdu);
        // Quirk: after a command without a data set (every pending C-MOVE response) the library keeps the
        // command's bytes and appends the next command to them, then parses the whole pile: 300 pending
        // responses made 5.7 MB of parsing, 0.4 s of a 300-slice C-MOVE, growing with the square of the
        // series' length. With no DIMSE message left in progress, those bytes are spent.
        if (network.dimse === undefined && endsCommand(pdu)) network.dimseStream = undefined;
        const wait = room();
        if (wait) {
          socket.pause();
          await wait;
          socket.resume();
        }
      }
    } finally {
      draining = false;
    }
  };
  socket.on('data', (chunk: Buffer) => {
    network.statistics?.addBytesReceived(chunk.length);
    try {
      for (const pdu of framer.push(chunk)) queue.push(pdu);
    } catch (err) {
      queue.length = 0;
      socket.destroy();
      network.emit('networkError', err);
      return;
    }
    if (!draining) void drain();
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

/**
 * What the receivers filed for one series asked for: the headers they parsed on the way in (handed to the
 * spool check so it does not read those files again) and the filings still under way.
 */
export class SeriesInbox {
  readonly known: KnownInstances = new Map();
  private readonly filing = new Set<Promise<void>>();

  add(p: Promise<void>): void {
    this.filing.add(p);
    void p.finally(() => this.filing.delete(p));
  }

  /** Resolves once every instance received so far is renamed into the spool or deleted. */
  async settled(): Promise<void> {
    while (this.filing.size) await Promise.allSettled([...this.filing]);
  }
}

export type Expected = Readonly<{ studyInstanceUid: string; seriesInstanceUid: string; destDir: string; inbox: SeriesInbox }>;

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
  let socket: Socket | undefined;
  client.on('cStoreRequest', (request: Dimse.requests.CStoreRequest, callback: (res: Dimse.responses.CStoreResponse) => void) => {
    answerCStore(receiver, request, callback, socket);
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
      const network = (c as unknown as { network?: StreamHooks & { socket?: Socket } }).network;
      if (!network) throw new Error('dcmjs-dimse Client has no network after send(): adapter needs updating');
      socket = network.socket;
      network.createStoreWritableStream = (ctx, request) => receiver.open(ctx, request);
      network.createDatasetFromStoreWritableStream = (writable, ctx, cb) => receiver.close(writable, ctx, cb);
    },
    signal,
    () => receiver.room(),
  );
  await receiver.settled();
  refuseOversized('C-GET', expected.seriesInstanceUid, maxInstanceBytes);
  checkSubOps('C-GET', r, receiver.refused);
}

/**
 * Files the instance and answers its C-STORE: written straight to the socket (c-store-response.ts) when the
 * receiver staged it, through the library otherwise (a request it never saw the data of).
 */
function answerCStore(receiver: Receiver, request: Dimse.requests.CStoreRequest, callback: (res: Dimse.responses.CStoreResponse) => void, socket?: Socket): void {
  const presentationContextId = receiver.contextOf(request);
  const status = receiver.complete(request);
  if (presentationContextId === undefined || !socket) {
    const res = CStoreResponse.fromRequest(request);
    res.setStatus(status);
    callback(res);
    return;
  }
  socket.write(
    cStoreResponsePdu({
      presentationContextId,
      messageId: request.getMessageId(),
      sopClassUid: request.getAffectedSopClassUid(),
      sopInstanceUid: request.getAffectedSopInstanceUid(),
      status,
    }),
  );
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
  private readonly staged = new WeakMap<object, Staged>();
  /** Files still being written: their unflushed bytes are the backlog `room()` bounds. */
  private readonly writing = new Set<WriteStream>();
  private readonly pending = new Set<Promise<void>>();
  refused = 0;
  received = 0;

  constructor(
    private readonly wanted: () => readonly Expected[],
    private readonly stagingDir: string,
    private readonly maxBytes: number,
  ) {}

  open(ctx: Dimse.association.PresentationContext, request: Dimse.requests.CStoreRequest): Writable {
    const path = join(this.stagingDir, `.incoming-${randomUUID()}`);
    const stream = createWriteStream(path, { highWaterMark: 1 << 20 });
    stream.on('error', () => undefined); // surfaced by `flushed`
    this.writing.add(stream);
    const flushed = finished(stream).finally(() => this.writing.delete(stream));
    flushed.catch(() => undefined);
    const meta = encodeFileMeta({
      sopClassUid: request.getAffectedSopClassUid(),
      sopInstanceUid: request.getAffectedSopInstanceUid(),
      transferSyntaxUid: ctx.getAcceptedTransferSyntaxUid() ?? TransferSyntax.ImplicitVRLittleEndian,
    });
    stream.write(meta);
    const entry: Staged = { path, flushed, head: new HeadCapture(meta), dataBytes: 0, presentationContextId: ctx.getPresentationContextId() };
    this.staged.set(request, entry);
    // Counts what the library hands over; past the cap it is dropped, so the file stops at the cap (its
    // first bytes still name the series the refusal is reported for).
    return new CappedWriter(stream, this.maxBytes, (chunk) => {
      entry.dataBytes += chunk.length;
      entry.head.push(chunk);
    });
  }

  close(writable: Writable, ctx: Dimse.association.PresentationContext, cb: (ds: Dimse.Dataset) => void): void {
    // Every byte is in hand (CappedWriter never holds any back): answer now, flush behind (see the header).
    writable.end();
    cb(new Dataset({}, ctx.getAcceptedTransferSyntaxUid()));
  }

  /**
   * While more than MAX_BACKLOG_BYTES wait to be flushed, a promise of some room; the framer pauses the
   * socket meanwhile.
   */
  room(): Promise<void> | undefined {
    let backlog = 0;
    for (const f of this.writing) backlog += f.writableLength;
    if (backlog <= MAX_BACKLOG_BYTES) return undefined;
    return Promise.race([...this.writing].map((f) => Promise.race([once(f, 'drain'), finished(f)]))).then(
      () => undefined,
      () => undefined,
    );
  }

  /** The presentation context the data set of `request` arrived on, while it is staged. */
  contextOf(request: Dimse.requests.CStoreRequest): number | undefined {
    return this.staged.get(request)?.presentationContextId;
  }

  /** The C-STORE status for the staged instance of `request`, decided from its first bytes; filing goes on behind. */
  complete(request: Dimse.requests.CStoreRequest): number {
    const staged = this.staged.get(request);
    if (!staged) return STATUS_CANNOT_UNDERSTAND;
    this.staged.delete(request);
    const discard = () => staged.flushed.catch(() => undefined).then(() => unlink(staged.path)).catch(() => undefined);
    if (staged.dataBytes > this.maxBytes) {
      const id = identityOf(staged.head.prefix());
      const series = id && this.wanted().find((e) => e.seriesInstanceUid === id.seriesInstanceUid)?.seriesInstanceUid;
      if (series) oversized.set(series, (oversized.get(series) ?? 0) + 1);
      else this.refused++;
      this.track(discard());
      return STATUS_OUT_OF_RESOURCES;
    }
    // One header parse: the verification header when the prefix settles it, else the identity alone.
    const known = staged.head.known();
    const id = known?.header ?? identityOf(staged.head.prefix());
    const target = id && this.wanted().find((e) => e.studyInstanceUid === id.studyInstanceUid && e.seriesInstanceUid === id.seriesInstanceUid);
    const sop = id?.sopInstanceUid ?? '';
    if (!target || !/^[0-9.]{1,64}$/.test(sop)) {
      this.refused++;
      this.track(discard());
      return STATUS_CANNOT_UNDERSTAND;
    }
    this.received++;
    const name = `${sop}.dcm`;
    const filed = (async () => {
      try {
        await staged.flushed;
        await rename(staged.path, join(target.destDir, name));
        if (known) target.inbox.known.set(name, known);
      } catch {
        await unlink(staged.path).catch(() => undefined); // the series is short: the spool check retries it
      }
    })();
    this.track(filed);
    target.inbox.add(filed);
    return Status.Success;
  }

  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}

type Staged = { path: string; flushed: Promise<void>; head: HeadCapture; dataBytes: number; presentationContextId: number };

/** Unflushed spool bytes allowed before the socket is paused: a few instances' worth, whatever the series' size. */
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;

/**
 * Writes the first `cap` bytes it is given to `file` and drops the rest (`seen` gets every chunk); ending it
 * ends the file. It never holds a chunk back (its callback is synchronous), so what it has seen is what the
 * library has handed over; the file's own backlog is bounded by the framer's pause (Receiver.room).
 */
class CappedWriter extends Writable {
  private written = 0;

  constructor(
    private readonly file: WriteStream,
    private readonly cap: number,
    private readonly seen: (chunk: Buffer) => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.seen(chunk);
    const room = Math.max(0, this.cap - this.written);
    const kept = room >= chunk.length ? chunk : chunk.subarray(0, room);
    this.written += kept.length;
    if (kept.length) this.file.write(kept);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.file.end();
    done();
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
      framePdus(this as unknown as NetworkInternals, () => this.receiver?.room());
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
      answerCStore(this.receiver!, request, callback, (this as unknown as NetworkInternals).socket);
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
    await expected.inbox.settled(); // the last instances may still be flushing and being renamed
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
