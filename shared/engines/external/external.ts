/**
 * What the out-of-process adapters (`http`, `command`) share (docs/design.md §5 "The engine contract"): the
 * descriptor and requirements ildflow assumes for an engine it cannot ask, the validation of every answer,
 * and the timeout that bounds one analysis.
 *
 * Failure policy, one place: an engine that is down, overloaded, crashed or too slow fails with a
 * *retryable* `EngineFailed` (BullMQ retries the analyze job with backoff, then the case fails with the
 * reason); an engine that answers something that is not an `ildflow.engine-result/1` — or a result for
 * another series — fails with a *non-retryable* `EngineFailed`, because asking again gets the same garbage.
 */
import { EngineFailed } from '../../errors.js';
import { EngineResult, type EngineDescriptor, type EngineInput, type EngineRequirements } from '../contract.js';
import { REFERENCE_DESCRIPTOR } from '../reference/descriptor.js';

/** An external engine's own requirements are not known before it answers, so ildflow applies the
 *  reference engine's — thin-section, full-coverage chest CT — which is what every published ILD
 *  quantification tool asks for (docs/design.md §5: requirements are checked before the engine runs). */
export const EXTERNAL_REQUIREMENTS: EngineRequirements = REFERENCE_DESCRIPTOR.requirements;

/** One analysis may take this long by default: a 600-slice study on a busy GPU engine is minutes. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 600_000;

export type ExternalEngineOptions = Readonly<{
  /** Bound on one analysis, polling included (ILDFLOW_ENGINE_TIMEOUT_SECONDS). */
  timeoutMs?: number;
  /** Overrides of the descriptor ildflow records before the engine's own answer is known. */
  descriptor?: Partial<EngineDescriptor>;
}>;

export function externalDescriptor(kind: 'http' | 'command', target: string, over: Partial<EngineDescriptor> = {}): EngineDescriptor {
  return {
    id: `${kind}:${target}`,
    name: `external ${kind} engine (${target})`,
    version: 'unknown',
    vendor: 'unknown',
    regulatory: { status: 'research' },
    requirements: EXTERNAL_REQUIREMENTS,
    ...over,
  };
}

/** Longest engine text quoted in a failure reason: enough to recognise the problem, not a log dump. */
const QUOTE_CHARS = 300;

export function quote(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > QUOTE_CHARS ? `${t.slice(0, QUOTE_CHARS)}…` : t || '(empty)';
}

/**
 * Parses and validates an engine's answer. The result must be an `ildflow.engine-result/1` about the
 * series that was sent: a result for another series would put one patient's findings on another's case.
 * @throws EngineFailed (not retryable) naming what is wrong.
 */
export function acceptAnswer(engineName: string, body: string | unknown, input: EngineInput): EngineResult {
  let raw: unknown = body;
  if (typeof body === 'string') {
    try {
      raw = JSON.parse(body);
    } catch {
      throw new EngineFailed(`${engineName} answered something that is not JSON: ${quote(body)}`);
    }
  }
  const parsed = EngineResult.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new EngineFailed(`${engineName} answered an invalid ildflow.engine-result/1: ${issues.join('; ')}`);
  }
  const r = parsed.data;
  if (r.input.seriesInstanceUid !== input.seriesInstanceUid || r.input.studyInstanceUid !== input.studyInstanceUid) {
    throw new EngineFailed(`${engineName} answered a result for a different study or series than the one sent`);
  }
  return r;
}

/** A signal that aborts when the caller's does or when `timeoutMs` passes; `timedOut()` tells which. */
export function deadline(signal: AbortSignal, timeoutMs: number): { signal: AbortSignal; timedOut: () => boolean; clear: () => void } {
  const ctl = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    ctl.abort(new Error('timeout'));
  }, timeoutMs);
  timer.unref?.();
  const onAbort = (): void => ctl.abort(signal.reason);
  if (signal.aborted) ctl.abort(signal.reason);
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    signal: ctl.signal,
    timedOut: () => expired,
    clear: () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

/** HTTP statuses worth asking again: a timeout, throttling, a server error. */
export const isTransient = (status: number): boolean => status === 408 || status === 429 || status >= 500;

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
