/**
 * Purge spools: removes the spooled series of cases that ended more than ILDFLOW_SPOOL_RETENTION_HOURS ago
 * (shared/lifecycle/spool-retention.ts, docs/operations.md "Spool retention"); their reports stay.
 * Triggered by a BullMQ job scheduler every ILDFLOW_SPOOL_PURGE_INTERVAL_SECONDS, so one worker process runs
 * it at a time. Each run takes at most BATCH cases, oldest ended first, from the purge index the case store
 * keeps in step with every change. Idempotent: the files go first, then the case records the purge (which
 * takes it out of the index); a crash in between repeats a removal that frees nothing more.
 */
import type { Redis } from 'ioredis';
import { recordSpoolPurge, SPOOL_ENDED } from '../../shared/lifecycle/spool-retention.js';
import { purgeSpoolsTask } from '../../shared/queues.js';
import type { WorkerDeps } from '../deps.js';
import { startRepeating, type RunningTask } from '../repeating.js';

const ACTOR = 'worker:purge-spools';
const BATCH = 200;

/** One purge run: how many cases had their spool removed, and the bytes it freed. */
export type PurgeRun = Readonly<{ cases: number; bytes: number }>;

export type PurgeDeps = Pick<WorkerDeps, 'store' | 'artifacts' | 'clock' | 'logger'>;

export async function purgeSpoolsOnce(deps: PurgeDeps, opts: { retentionHours: number; batch?: number }): Promise<PurgeRun> {
  const now = deps.clock();
  const endedBy = new Date(now.getTime() - opts.retentionHours * 3600_000);
  let cases = 0;
  let bytes = 0;
  const backfilled = await deps.store.backfillSpoolIndex();
  if (backfilled) deps.logger.info({ cases: backfilled }, 'cases that ended before the spool purge existed are now due for it');
  for (const id of await deps.store.spoolsEndedBy(endedBy, opts.batch ?? BATCH)) {
    const c = await deps.store.find(id);
    // The index follows every change, so a case found here has ended; checked again in case it moved since.
    if (!c || !SPOOL_ENDED.has(c.status)) continue;
    const freed = await deps.artifacts.purgeSeries(c.id);
    let recorded = false;
    await deps.store.update(c.id, ACTOR, (cur, at) => {
      const change = recordSpoolPurge(cur, at, freed, opts.retentionHours);
      recorded = change !== null;
      return change;
    });
    if (!recorded) continue; // another run recorded it first
    await deps.store.audit({ userId: ACTOR, action: 'spool.purge', caseId: c.id, detail: `${freed} bytes` });
    deps.logger.info({ caseId: c.id, bytes: freed }, 'spooled series purged after retention');
    cases++;
    bytes += freed;
  }
  return { cases, bytes };
}

/** Upserts the purge's scheduler and takes its jobs in this process (concurrency 1). */
export function startSpoolPurge(
  deps: PurgeDeps & Pick<WorkerDeps, 'config'> & Readonly<{ observePurge?: (run: PurgeRun) => void }>,
  opts: { connection: Redis },
): Promise<RunningTask> {
  const run = async () => {
    const r = await purgeSpoolsOnce(deps, { retentionHours: deps.config.ILDFLOW_SPOOL_RETENTION_HOURS });
    deps.observePurge?.(r);
  };
  return startRepeating(purgeSpoolsTask(deps.config.ILDFLOW_SPOOL_PURGE_INTERVAL_SECONDS * 1000), run, deps, { connection: opts.connection, label: 'spool purge' });
}
