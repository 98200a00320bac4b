/**
 * The `http(s)://…` engine adapter (docs/design.md §5 "The engine contract"): POSTs the series to the engine's
 * URL as a STOW-RS body (PS3.18 §10.5: `multipart/related; type="application/dicom"`, one Part 10 file per
 * part), streamed from the spooled files — never the whole series in memory. The engine answers
 * - 200 with an `ildflow.engine-result/1`, or
 * - 202 with `Location` (and optionally `Retry-After`): ildflow polls that URL — on the engine's own
 *   origin only — until it answers 200, or
 * - 422 when it refuses the series (the case becomes `ineligible` with the engine's words).
 * The 200 answer is the result as JSON — which may name its label map (a DICOM SEG, docs/design.md §5
 * "Label maps") as `"labelMap": {"href": "…"}`, fetched from the engine's own origin only — or a
 * `multipart/related` body with the result as an `application/json` part and the SEG as an
 * `application/dicom` part, streamed to disk (label-map.ts).
 * Network errors, 408/429 and 5xx are retried a few times here, then surface as a retryable failure (the
 * analyze job's own backoff takes over); everything is bounded by the timeout. See external.ts for the
 * failure policy.
 */
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { scanSeriesDir } from '../../dicom/read-instance.js';
import { EngineFailed, NotEligible } from '../../errors.js';
import type { EngineInput, EngineResult, IldEngine } from '../contract.js';
import { DEFAULT_ENGINE_TIMEOUT_MS, acceptAnswer, deadline, externalDescriptor, isTransient, quote, sleep, type ExternalEngineOptions } from './external.js';
import { fetchLabelMap, labelMapHref, readMultipartAnswer } from './label-map.js';

/** POST attempts before the adapter gives up on this job attempt (network errors, 408, 429, 5xx). */
const POST_ATTEMPTS = 3;
/** First pause between POST attempts; doubled each time (1 s, 2 s). */
const POST_BACKOFF_MS = 1_000;
/** Poll interval when the engine sends no Retry-After, and the bounds applied to the one it sends. */
const POLL_DEFAULT_MS = 1_000;
const POLL_MIN_MS = 100;
const POLL_MAX_MS = 10_000;
/** Consecutive failed polls (network, 5xx) tolerated before the job attempt fails. */
const POLL_FAILURES_TOLERATED = 3;
/** An engine result is a few kilobytes; anything this large is not one. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export function createHttpEngine(url: string, opts: ExternalEngineOptions = {}): IldEngine {
  const target = new URL(url);
  const descriptor = externalDescriptor('http', `${target.host}${target.pathname}`, opts.descriptor);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS;
  return {
    descriptor,
    async analyze(input, signal) {
      const d = deadline(signal, timeoutMs);
      try {
        return await submit(target, input, descriptor.name, d.signal);
      } catch (err) {
        if (d.timedOut()) throw new EngineFailed(`${descriptor.name} did not answer within ${timeoutMs / 1000} s`, { retryable: true });
        if (signal.aborted) throw signal.reason as Error;
        throw err;
      } finally {
        d.clear();
      }
    },
  };
}

async function submit(url: URL, input: EngineInput, name: string, signal: AbortSignal): Promise<EngineResult> {
  const { instances } = await scanSeriesDir(input.seriesDir);
  if (instances.length === 0) throw new EngineFailed(`no DICOM files to send to ${name} in the series folder`);
  const files = instances.map((i) => i.path);
  let lastProblem = '';
  for (let attempt = 1; attempt <= POST_ATTEMPTS; attempt++) {
    if (attempt > 1) await sleep(POST_BACKOFF_MS * 2 ** (attempt - 2), signal);
    const boundary = `ildflow-${randomBytes(12).toString('hex')}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
          accept: 'application/json',
          'x-study-instance-uid': input.studyInstanceUid,
          'x-series-instance-uid': input.seriesInstanceUid,
        },
        body: Readable.toWeb(Readable.from(stowBody(files, boundary))) as unknown as ReadableStream<Uint8Array>,
        duplex: 'half',
        signal,
        redirect: 'error',
      } as RequestInit & { duplex: 'half' });
    } catch (err) {
      if (signal.aborted) throw err;
      lastProblem = `cannot reach ${name}: ${networkReason(err)}`;
      continue;
    }
    if (res.status === 200) return readAnswer(res, url, name, input, signal);
    if (res.status === 202) return poll(url, res, input, name, signal);
    const body = await readCapped(res, name).catch(() => '');
    if (res.status === 422) throw new NotEligible([`${name} refused the series: ${problemDetail(body)}`]);
    if (isTransient(res.status)) {
      lastProblem = `${name} answered HTTP ${res.status}: ${quote(body)}`;
      continue;
    }
    throw new EngineFailed(`${name} answered HTTP ${res.status}: ${quote(body)}`);
  }
  throw new EngineFailed(`${lastProblem} (after ${POST_ATTEMPTS} attempts)`, { retryable: true });
}

async function poll(base: URL, accepted: Response, input: EngineInput, name: string, signal: AbortSignal): Promise<EngineResult> {
  await accepted.body?.cancel();
  const location = accepted.headers.get('location');
  if (!location) throw new EngineFailed(`${name} answered 202 without a Location to poll`);
  const target = new URL(location, base);
  // The Location is resolved against the engine's URL (RFC 9110 §10.2.2) and polled only there: an engine
  // (or whoever answers in its name) must not point ildflow at another host — an internal service, a
  // metadata endpoint — to be fetched from inside the network.
  if (target.origin !== base.origin)
    throw new EngineFailed(`${name} answered 202 with a Location on another origin (${target.origin}); ildflow polls only the engine's own origin`);
  let wait = retryAfterMs(accepted.headers.get('retry-after'));
  let failures = 0;
  // Bounded by the deadline's signal: sleep() and fetch() both reject once it fires.
  for (;;) {
    await sleep(wait, signal);
    let res: Response;
    try {
      res = await fetch(target, { headers: { accept: 'application/json' }, signal, redirect: 'error' });
    } catch (err) {
      if (signal.aborted) throw err;
      if (++failures >= POLL_FAILURES_TOLERATED) throw new EngineFailed(`cannot poll ${name}: ${networkReason(err)}`, { retryable: true });
      continue;
    }
    if (res.status === 200) return readAnswer(res, base, name, input, signal);
    const body = await readCapped(res, name).catch(() => '');
    if (res.status === 202) {
      failures = 0;
      wait = retryAfterMs(res.headers.get('retry-after'));
      continue;
    }
    if (res.status === 422) throw new NotEligible([`${name} refused the series: ${problemDetail(body)}`]);
    if (isTransient(res.status) && ++failures < POLL_FAILURES_TOLERATED) continue;
    // A 404 here means the engine lost the job (restarted): submitting again may work.
    throw new EngineFailed(`${name} answered HTTP ${res.status} while polling: ${quote(body)}`, { retryable: isTransient(res.status) || res.status === 404 });
  }
}

/** The STOW-RS request body (PS3.18 §10.5.1.1): each file as one `application/dicom` part, streamed. */
export async function* stowBody(files: readonly string[], boundary: string): AsyncGenerator<Buffer> {
  for (const file of files) {
    const { size } = await stat(file);
    yield Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${size}\r\n\r\n`, 'latin1');
    for await (const chunk of createReadStream(file)) yield chunk as Buffer;
    yield Buffer.from('\r\n', 'latin1');
  }
  yield Buffer.from(`--${boundary}--\r\n`, 'latin1');
}

/** A 200 answer: JSON (with an optional label-map reference) or multipart (result and SEG parts). */
async function readAnswer(res: Response, base: URL, name: string, input: EngineInput, signal: AbortSignal): Promise<EngineResult> {
  const type = res.headers.get('content-type');
  if (type && /^\s*multipart\//i.test(type)) {
    const json = await readMultipartAnswer(res, type, name, MAX_ANSWER_BYTES, input.labelMapPath);
    return acceptAnswer(name, json, input);
  }
  const text = await readCapped(res, name);
  const result = acceptAnswer(name, text, input);
  const href = labelMapHref(text);
  if (href && input.labelMapPath) {
    try {
      await fetchLabelMap(href, base, name, input.labelMapPath, signal);
    } catch (err) {
      // The map is optional: one the engine names but will not give is dropped with the reason, unless
      // asking again may help (a network error, a 5xx), when the analysis is retried.
      if (!(err instanceof EngineFailed) || err.retryable || !input.onLabelMapProblem) throw err;
      await rm(input.labelMapPath, { force: true });
      input.onLabelMapProblem(err.detail);
    }
  }
  return result;
}

function retryAfterMs(h: string | null): number {
  const s = h ? Number(h) : NaN;
  const ms = Number.isFinite(s) ? s * 1000 : POLL_DEFAULT_MS;
  return Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, ms));
}

function networkReason(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** RFC 9457 `detail` (or `title`) when the engine sends problem+json, else the text itself. */
function problemDetail(body: string): string {
  try {
    const p = JSON.parse(body) as { detail?: unknown; title?: unknown };
    if (typeof p.detail === 'string') return quote(p.detail);
    if (typeof p.title === 'string') return quote(p.title);
  } catch {
    // not JSON
  }
  return quote(body);
}

async function readCapped(res: Response, name: string): Promise<string> {
  const reader = (res.body as NodeWebReadableStream<Uint8Array> | null)?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new EngineFailed(`${name} answered more than ${MAX_ANSWER_BYTES / 1024 / 1024} MB: not an engine result`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
