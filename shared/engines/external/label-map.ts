/**
 * How the `http` adapter receives an engine's label map (docs/design.md §5 "Label maps"): as the
 * `application/dicom` part of a `multipart/related` answer (RFC 2387, the same framing as the STOW-RS
 * request it answers), or by reference (`"labelMap": {"href": "…"}` in the JSON result), fetched from the
 * engine's own origin only — like the 202 Location, an engine must not point ildflow at another host. Either
 * way the SEG streams to disk under a size cap; ildflow checks it afterwards (label-map-check.ts).
 */
import { open } from 'node:fs/promises';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { MultipartSplitter, boundaryOf } from '../../pacs/multipart.js';
import { EngineFailed } from '../../errors.js';
import { isTransient } from './external.js';

/** A SEG of 512×512×1000 slices × 6 classes is under 200 MB; anything larger is not a label map. */
export const MAX_LABEL_MAP_BYTES = 512 * 1024 * 1024;

type Sink = { write(chunk: Buffer): Promise<void>; close(): Promise<void> };

async function fileSink(path: string, name: string): Promise<Sink> {
  const fh = await open(path, 'w');
  let total = 0;
  return {
    async write(chunk) {
      total += chunk.length;
      if (total > MAX_LABEL_MAP_BYTES) throw new EngineFailed(`${name} sent a label map over ${MAX_LABEL_MAP_BYTES / 1024 / 1024} MB: not a label map`);
      await fh.write(chunk);
    },
    close: () => fh.close(),
  };
}

async function* chunks(res: Response): AsyncGenerator<Uint8Array> {
  const reader = (res.body as NodeWebReadableStream<Uint8Array> | null)?.getReader();
  if (!reader) return;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/** The `labelMap.href` a JSON result names, if any. */
export function labelMapHref(json: string): string | undefined {
  try {
    const href = (JSON.parse(json) as { labelMap?: { href?: unknown } }).labelMap?.href;
    return typeof href === 'string' && href ? href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Splits a multipart answer: returns the `application/json` part's text (capped at `maxJsonBytes`) and
 * streams the `application/dicom` part to `labelMapPath` (discarded when there is none).
 */
export async function readMultipartAnswer(res: Response, contentType: string, name: string, maxJsonBytes: number, labelMapPath: string | undefined): Promise<string> {
  let splitter: MultipartSplitter;
  try {
    splitter = new MultipartSplitter(boundaryOf(contentType));
  } catch (err) {
    throw new EngineFailed(`${name} answered an unreadable multipart body: ${(err as Error).message}`);
  }
  const json: Buffer[] = [];
  let jsonBytes = 0;
  let part: 'json' | 'seg' | 'other' = 'other';
  let seg: Sink | undefined;
  let segs = 0;
  try {
    for await (const chunk of chunks(res)) {
      for (const ev of splitter.push(chunk)) {
        if (ev.type === 'part') {
          const type = (ev.headers['content-type'] ?? '').toLowerCase();
          part = type.startsWith('application/json') ? 'json' : type.startsWith('application/dicom') ? 'seg' : 'other';
          if (part === 'seg' && ++segs > 1) throw new EngineFailed(`${name} answered more than one label map`);
          if (part === 'seg' && labelMapPath) seg = await fileSink(labelMapPath, name);
        } else if (ev.type === 'data') {
          if (part === 'json') {
            jsonBytes += ev.chunk.length;
            if (jsonBytes > maxJsonBytes) throw new EngineFailed(`${name} answered a result part over ${maxJsonBytes / 1024 / 1024} MB: not an engine result`);
            json.push(Buffer.from(ev.chunk));
          } else if (part === 'seg' && seg) await seg.write(ev.chunk);
        } else if (part === 'seg' && seg) {
          await seg.close();
          seg = undefined;
        }
      }
    }
    if (!splitter.complete) throw new EngineFailed(`${name} answered a multipart body that ends before its close delimiter`, { retryable: true });
  } finally {
    await seg?.close();
  }
  if (!json.length) throw new EngineFailed(`${name} answered a multipart body without an application/json result part`);
  return Buffer.concat(json).toString('utf8');
}

/** Fetches the SEG an engine's result names, from the engine's own origin, to `labelMapPath`. */
export async function fetchLabelMap(href: string, base: URL, name: string, labelMapPath: string, signal: AbortSignal): Promise<void> {
  const target = new URL(href, base);
  if (target.origin !== base.origin) throw new EngineFailed(`${name} names a label map on another origin (${target.origin}); ildflow fetches only from the engine's own origin`);
  let res: Response;
  try {
    res = await fetch(target, { headers: { accept: 'application/dicom' }, signal, redirect: 'error' });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new EngineFailed(`cannot fetch the label map from ${name}: ${(err as Error).message}`, { retryable: true });
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new EngineFailed(`${name} answered HTTP ${res.status} for its label map`, { retryable: isTransient(res.status) });
  }
  const sink = await fileSink(labelMapPath, name);
  try {
    for await (const chunk of chunks(res)) await sink.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  } finally {
    await sink.close();
  }
}
