/**
 * The reference engine as an `IldEngine` (docs/reference-engine.md): assembles the series, checks the declared
 * requirements, analyses the volume and returns a validated `ildflow.engine-result/1`. `analyze` runs on a
 * worker thread so the caller's event loop — and BullMQ's lock renewal — keeps running during the
 * CPU-bound seconds; aborting terminates the thread. `analyzeSeriesDir` is the same work in-process (the
 * `analyze DIR` CLI and the thread itself).
 */
import { AppError, EngineFailed, InvalidDicom, NotEligible } from '../../errors.js';
import { EngineResult, type EngineInput, type IldEngine } from '../contract.js';
import { assembleVolume } from '../../volume/assemble-volume.js';
import { checkRequirements } from '../requirements.js';
import { analyzeVolume, type StageHook } from './analyze-volume.js';
import { REFERENCE_DESCRIPTOR } from './descriptor.js';
import { sharedArray, startSiblingThread } from './threads.js';
import { writeLabelMap } from './write-label-map.js';

export type SeriesIds = Partial<Pick<EngineInput, 'studyInstanceUid' | 'seriesInstanceUid'>>;
export type AnalyzeDirOptions = {
  threads?: number;
  now?: () => Date;
  onStage?: StageHook;
  /** When given, the label map is written there as a DICOM SEG (write-label-map.ts). */
  labelMapPath?: string;
};
export type ReferenceEngineOptions = {
  /** Threads per analysis (ILDFLOW_ENGINE_THREADS; 0 = every core). */
  threads?: number;
};

/**
 * Runs the reference engine in this thread on a folder holding one series.
 * @param ids - when given, the folder's UIDs must match (guards against analysing the wrong spool folder).
 * @throws InvalidDicom for unusable input, NotEligible when the requirements are not met.
 */
export async function analyzeSeriesDir(dir: string, ids: SeriesIds = {}, opts: AnalyzeDirOptions = {}): Promise<EngineResult> {
  const now = opts.now ?? (() => new Date());
  const started = now();
  const volume = await assembleVolume(dir);
  opts.onStage?.('read and assemble the series');
  const s = volume.summary;
  if (ids.seriesInstanceUid && ids.seriesInstanceUid !== s.seriesInstanceUid) {
    throw new InvalidDicom('the folder holds a different series than the one requested');
  }
  if (ids.studyInstanceUid && ids.studyInstanceUid !== s.studyInstanceUid) {
    throw new InvalidDicom('the folder holds a series of a different study than the one requested');
  }
  const reasons = checkRequirements(s, REFERENCE_DESCRIPTOR.requirements);
  if (reasons.length) throw new NotEligible(reasons);
  // One byte per voxel, on shared memory so the classifying threads fill it in place (analyze-volume.ts).
  const classMap = opts.labelMapPath ? sharedArray(Uint8Array, volume.width * volume.height * volume.depth) : undefined;
  const analysis = await analyzeVolume(volume, { threads: opts.threads, onStage: opts.onStage, classMap });
  if (classMap && opts.labelMapPath && classMap.some((v) => v !== 0)) {
    await writeLabelMap(opts.labelMapPath, volume, classMap, dir, REFERENCE_DESCRIPTOR, now());
    opts.onStage?.('label map (DICOM SEG)');
  }
  const finished = now();
  return EngineResult.parse({
    ...analysis,
    timings: { startedAt: started.toISOString(), finishedAt: finished.toISOString(), durationMs: finished.getTime() - started.getTime() },
  });
}

/** What the thread posts back: a result, or an error flattened to what can cross the thread boundary. */
export type ThreadReply =
  | { ok: true; result: unknown }
  | { ok: false; error: { name: string; detail: string; reasons?: readonly string[] } };

export type ThreadRequest = { dir: string; ids: SeriesIds; threads: number; labelMapPath?: string };

/** Creates the reference engine; each `analyze` call runs on its own worker thread. */
export function createReferenceEngine(opts: ReferenceEngineOptions = {}): IldEngine {
  return {
    descriptor: REFERENCE_DESCRIPTOR,
    analyze: (input, signal) =>
      runOnThread(
        {
          dir: input.seriesDir,
          ids: { studyInstanceUid: input.studyInstanceUid, seriesInstanceUid: input.seriesInstanceUid },
          threads: opts.threads ?? 0,
          ...(input.labelMapPath ? { labelMapPath: input.labelMapPath } : {}),
        },
        signal,
      ),
  };
}

function runOnThread(request: ThreadRequest, signal: AbortSignal): Promise<EngineResult> {
  if (signal.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
  return new Promise<EngineResult>((resolve, reject) => {
    const worker = startSiblingThread(import.meta.url, 'analyze-thread', request);
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = (): void => settle(() => reject(signal.reason ?? new Error('aborted')));
    signal.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: ThreadReply) => {
      settle(() => {
        if (!reply.ok) return reject(reviveError(reply.error));
        const parsed = EngineResult.safeParse(reply.result);
        if (parsed.success) resolve(parsed.data);
        else reject(new EngineFailed(`reference engine answered an invalid result: ${parsed.error.issues[0]?.message ?? 'schema mismatch'}`));
      });
    });
    worker.once('error', (err) => settle(() => reject(new EngineFailed(`reference engine thread failed: ${err.message}`, { cause: err }))));
    worker.once('exit', (code) => settle(() => reject(new EngineFailed(`reference engine thread exited (code ${code}) without an answer`))));
  });
}

function reviveError(e: { name: string; detail: string; reasons?: readonly string[] }): AppError {
  if (e.name === 'NotEligible') return new NotEligible(e.reasons ?? [e.detail]);
  if (e.name === 'InvalidDicom') return new InvalidDicom(e.detail);
  return new EngineFailed(e.detail);
}
