/**
 * Polls Orthanc's `/changes` feed for StableStudy events and resumes the cases waiting for that study —
 * the reconciliation behind the fire-and-forget Lua webhook (docs/peers.md), and the only trigger when no
 * webhook is configured. Runs in the worker role. The last sequence number handled is kept in Redis under
 * the deployment's prefix, so a restart continues where it stopped; it is advanced only after a batch is
 * handled (at least once), and a repeated event is a no-op (resumeWaiting: compare-and-set on the case).
 * Several worker processes may run it: a short Redis lock lets one of them poll per round.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { resumeWaiting } from './resume-waiting.js';
import type { CaseStore } from '../../../shared/store/case-store.js';
import type { Pipeline } from '../../../shared/queues.js';

export type OrthancPollerDeps = Readonly<{
  redis: Redis;
  prefix: string;
  store: CaseStore;
  pipeline: Pick<Pipeline, 'enqueueNext'>;
  logger: Logger;
}>;

export type OrthancPollerOptions = Readonly<{
  /** Orthanc's REST root, e.g. http://orthanc:8042 */
  url: string;
  /** `basic:user:password` or `bearer:token` */
  auth?: string;
  intervalMs: number;
  timeoutMs?: number;
}>;

type Change = { ChangeType: string; ID: string; Seq: number };
type ChangesPage = { Changes: Change[]; Done: boolean; Last: number };
type OrthancStudy = { MainDicomTags?: Record<string, string>; PatientMainDicomTags?: Record<string, string> };

/** Orthanc answers at most this many changes per request. */
const PAGE = 100;
const ACTOR = 'pacs:orthanc-changes';

/** Orthanc answered a request with an error status: the status decides what follows, the message is for the log. */
class OrthancAnswered extends Error {
  constructor(
    path: string,
    readonly status: number,
  ) {
    super(`GET ${path}: HTTP ${status}`);
    this.name = 'OrthancAnswered';
  }
}

export const seqKey = (prefix: string) => `${prefix}:pacs:orthanc-changes:seq`;
const lockKey = (prefix: string) => `${prefix}:pacs:orthanc-changes:lock`;

export function startOrthancPoller(deps: OrthancPollerDeps, opts: OrthancPollerOptions): { stop(): Promise<void>; pollOnce(): Promise<number> } {
  const base = opts.url.replace(/\/+$/, '');
  const headers: Record<string, string> = {};
  if (opts.auth?.startsWith('basic:')) headers.authorization = `Basic ${Buffer.from(opts.auth.slice(6)).toString('base64')}`;
  else if (opts.auth?.startsWith('bearer:')) headers.authorization = `Bearer ${opts.auth.slice(7)}`;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const me = randomUUID();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  async function get<T>(path: string): Promise<T> {
    const res = await fetch(base + path, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new OrthancAnswered(path, res.status);
    return (await res.json()) as T;
  }

  /** Handles every change since the stored sequence number; returns how many cases it resumed. */
  async function pollOnce(): Promise<number> {
    // The lock outlives a round by a margin, and is only released by its holder.
    const got = await deps.redis.set(lockKey(deps.prefix), me, 'PX', Math.max(30_000, opts.intervalMs * 3), 'NX');
    if (!got) return 0;
    let resumed = 0;
    try {
      for (;;) {
        const since = Number((await deps.redis.get(seqKey(deps.prefix))) ?? 0);
        const page = await get<ChangesPage>(`/changes?since=${since}&limit=${PAGE}`);
        for (const ch of page.Changes) {
          if (ch.ChangeType !== 'StableStudy') continue;
          let study: OrthancStudy;
          try {
            study = await get<OrthancStudy>(`/studies/${encodeURIComponent(ch.ID)}`);
          } catch (err) {
            // Deleted since it turned stable: nothing to resume.
            if (err instanceof OrthancAnswered && err.status === 404) continue;
            throw err;
          }
          const ev = {
            studyInstanceUid: study.MainDicomTags?.StudyInstanceUID || undefined,
            accessionNumber: study.MainDicomTags?.AccessionNumber || undefined,
            patientId: study.PatientMainDicomTags?.PatientID || undefined,
            source: `orthanc /changes ${ch.Seq}`,
          };
          resumed += (await resumeWaiting(deps, ev, ACTOR, randomUUID())).length;
        }
        // Only forward: a PACS whose change log was reset (Last < since) is read from its start next round.
        await deps.redis.set(seqKey(deps.prefix), String(page.Last < since ? 0 : page.Last));
        if (page.Done || !page.Changes.length) break;
      }
    } finally {
      // Compare-and-delete: never release a lock another process took after ours expired.
      await deps.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, lockKey(deps.prefix), me);
    }
    return resumed;
  }

  const loop = () => {
    if (stopped) return;
    running = pollOnce()
      .then((n) => n && deps.logger.info({ resumed: n }, 'orthanc /changes: resumed waiting cases'))
      .catch((err: Error) => deps.logger.warn({ err: err.message }, 'orthanc /changes poll failed; will retry'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, opts.intervalMs);
      });
  };
  timer = setTimeout(loop, 0);

  return {
    pollOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
