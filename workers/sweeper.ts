/**
 * The sweeper keeps every wait bounded (docs/design.md §7 "nothing stuck forever"): expired review leases go
 * back to the queue, and cases whose awaiting-study deadline passed become `ineligible`. Several worker
 * processes may sweep at once: each move is a compare-and-set, so the loser's attempt is a no-op.
 */
import { TransitionRefused } from '../shared/errors.js';
import { expireLease } from '../shared/lifecycle/index.js';
import { expireAwaitingStudy } from './retrieve/retrieve.worker.js';
import type { WorkerDeps } from './deps.js';
import { describeError } from './stage.js';

export async function sweepOnce(deps: Pick<WorkerDeps, 'store' | 'clock' | 'logger'>): Promise<{ leases: number; awaiting: number }> {
  const now = deps.clock();
  let leases = 0;
  for (const id of await deps.store.expiredLeases(now)) {
    try {
      await deps.store.update(id, 'worker:sweeper', expireLease);
      leases++;
    } catch (err) {
      if (!(err instanceof TransitionRefused)) throw err; // claimed again, renewed or released since it was listed
    }
  }
  const due = await deps.store.awaitingStudyExpired(now);
  for (const id of due) await expireAwaitingStudy(id, deps);
  return { leases, awaiting: due.length };
}

/** Sweeps every `intervalMs` until stopped; errors are logged and the next sweep tries again. */
export function startSweeper(deps: Pick<WorkerDeps, 'store' | 'clock' | 'logger'>, intervalMs = 10_000): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepOnce(deps)
      .catch((err: unknown) => deps.logger.error({ err: describeError(err) }, 'sweep failed'))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
