/**
 * Trim the billing outbox (docs/billing.md "The outbox"): the stream keeps every event that some configured
 * output (MLLP, webhook) has not delivered, every event a dead letter may replay, and the REST feed's
 * window (ILDFLOW_BILLING_FEED_WINDOW_DAYS); everything older goes. A feed consumer behind that gets 410
 * with the oldest cursor. Runs in the worker role through a BullMQ job scheduler (one process at a time);
 * idempotent. The charge itself stays on its case, and event ids stay in the idempotency index.
 */
import type { Redis } from 'ioredis';
import { trimOutboxTask } from '../../shared/queues.js';
import { earlierId, streamIdAt } from '../../shared/store/stream-ids.js';
import type { WorkerDeps } from '../deps.js';
import { startRepeating, type RunningTask } from '../repeating.js';

/** The billing outputs the configuration turns on, by their cursor names (workers/billing/*-output.ts). */
export function configuredOutputs(config: Pick<WorkerDeps['config'], 'ILDFLOW_HL7_MLLP' | 'ILDFLOW_BILLING_WEBHOOK_URL'>): string[] {
  return [...(config.ILDFLOW_HL7_MLLP ? ['mllp'] : []), ...(config.ILDFLOW_BILLING_WEBHOOK_URL ? ['webhook'] : [])];
}

/** One trim. Returns the events removed (0 while an output has delivered nothing yet). */
export async function trimOutboxOnce(deps: Pick<WorkerDeps, 'store' | 'clock'>, opts: { outputs: readonly string[]; windowMs: number }): Promise<number> {
  const delivery = deps.store.delivery;
  let minId = streamIdAt(deps.clock().getTime() - opts.windowMs);
  for (const output of opts.outputs) {
    const cursor = await delivery.cursor(output);
    if (!cursor) return 0; // it has delivered nothing: every event is still its to deliver
    minId = earlierId(minId, cursor); // the cursor is the last delivered event: it and all after it stay
  }
  // A dead letter is replayed from its event in the stream (delivery-store.ts `readAt`).
  const { total } = await delivery.listDeadLetters(0, 0);
  for (const dl of (await delivery.listDeadLetters(0, total)).items) minId = earlierId(minId, dl.cursor);
  return delivery.trimOutbox(minId);
}

export function startOutboxTrim(deps: Pick<WorkerDeps, 'store' | 'clock' | 'config' | 'logger'>, opts: { connection: Redis }): Promise<RunningTask> {
  const outputs = configuredOutputs(deps.config);
  const windowMs = deps.config.ILDFLOW_BILLING_FEED_WINDOW_DAYS * 24 * 3600_000;
  const run = async () => {
    const removed = await trimOutboxOnce(deps, { outputs, windowMs });
    if (removed) deps.logger.info({ removed }, 'billing outbox trimmed');
  };
  return startRepeating(trimOutboxTask(), run, deps, { connection: opts.connection, label: 'outbox trim' });
}
