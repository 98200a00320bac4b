/**
 * Delivers the billing outbox to one output (MLLP or webhook), in order, at least once (docs/design.md §5, §7).
 * Trigger: a poll of the outbox stream after the output's cursor. Cardinality: one loop per output across
 * all processes — the loop works only while it holds the output's Redis lock, and every cursor write is
 * fenced by the lock token (shared/store/delivery-store.ts), so cursors never race.
 * Retries: a transient failure is retried with exponential backoff on the same event (later events wait:
 * a reversal must never overtake its charge), the failed-attempt count persists in Redis, so a crash loop
 * still ends in the dead-letter list. Idempotence: the cursor moves only after the peer acknowledged, so a
 * process killed between the outbox write and the acknowledgment redelivers the same event, with the same
 * event id (and HL7 MSH-10), after restart; the receiver dedupes on it.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { ChargeEvent } from '../../shared/billing/charge-event.js';
import { nextStep, type DeliveryOutcome, type RetryPolicy } from '../../shared/billing/delivery-policy.js';
import { DeliveryLockLost, type DeadLetter, type DeliveryStore, type OutboxEntry } from '../../shared/store/delivery-store.js';

export type DeliveryOutput<E = ChargeEvent> = Readonly<{
  /** The cursor and lock name: `mllp`, `webhook`, `results-mllp`. */
  name: string;
  deliver(event: E, signal: AbortSignal): Promise<DeliveryOutcome>;
}>;

/** What a loop delivers: the schema its outbox entries must match, and what a dead letter says of one. */
export type OutboxKind<E> = Readonly<{
  schema: z.ZodType<E>;
  what: string;
  summary(e: E): { caseId: string; kind: string; codes: string[] };
}>;

/** The billing outbox's charges and reversals (the default). */
export const CHARGE_EVENTS: OutboxKind<ChargeEvent> = {
  schema: ChargeEvent,
  what: 'charge event',
  summary: (e) => ({ caseId: e.caseId, kind: e.kind, codes: e.lines.map((l) => l.code) }),
};

export type DeliveryLoopOptions<E = ChargeEvent> = Readonly<{
  output: DeliveryOutput<E>;
  /** Default: CHARGE_EVENTS. */
  kind?: OutboxKind<E>;
  store: DeliveryStore;
  logger: Logger;
  policy: RetryPolicy;
  /** Lock time-to-live; renewed every third of it. A crashed holder's lock frees after this. */
  lockTtlMs: number;
  /** Wait between polls of an empty outbox (and between attempts to take a held lock). */
  pollMs: number;
  batch?: number;
  clock?: () => Date;
  /** Called after each event is settled (tests observe progress with it). */
  onSettled?: (e: { eventId: string; result: 'delivered' | 'dead-lettered'; attempts: number }) => void;
}>;

export type DeliveryLoop = Readonly<{ output: string; stop(): Promise<void> }>;

export function startDeliveryLoop<E = ChargeEvent>(opts: DeliveryLoopOptions<E>): DeliveryLoop {
  const name = opts.output.name;
  const kind = (opts.kind ?? CHARGE_EVENTS) as OutboxKind<E>;
  const log = opts.logger.child({ output: name });
  const clock = opts.clock ?? (() => new Date());
  const stopping = new AbortController();
  const running = run().catch((err: unknown) => log.error({ err: describe(err) }, 'billing delivery loop ended'));

  async function pause(ms: number, signal: AbortSignal): Promise<void> {
    await sleepTimer(ms, undefined, { signal }).catch(() => {});
  }

  async function run(): Promise<void> {
    while (!stopping.signal.aborted) {
      const token = randomUUID();
      let held = false;
      try {
        held = await opts.store.acquireLock(name, token, opts.lockTtlMs);
      } catch (err) {
        log.warn({ err: describe(err) }, 'could not reach Redis for the delivery lock');
      }
      if (!held) {
        await pause(Math.min(opts.pollMs, opts.lockTtlMs / 2), stopping.signal);
        continue;
      }
      log.info('holding the billing delivery lock');
      const lost = new AbortController();
      const renew = setInterval(() => {
        opts.store.renewLock(name, token, opts.lockTtlMs).then(
          (ok) => ok || lost.abort(),
          () => lost.abort(),
        );
      }, Math.max(50, Math.floor(opts.lockTtlMs / 3)));
      const signal = AbortSignal.any([stopping.signal, lost.signal]);
      try {
        await drain(token, signal);
      } catch (err) {
        if (err instanceof DeliveryLockLost) log.warn('lost the billing delivery lock; another process delivers now');
        else log.error({ err: describe(err) }, 'billing delivery failed; retaking the lock');
        await pause(opts.pollMs, stopping.signal);
      } finally {
        clearInterval(renew);
        await opts.store.releaseLock(name, token).catch(() => {});
      }
    }
  }

  async function drain(token: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const replay = await opts.store.nextReplay(name);
      if (replay) {
        const entry = await opts.store.readAt(replay.cursor);
        await settle(token, entry ?? { cursor: replay.cursor, eventId: replay.eventId, event: null }, signal, replay);
        continue;
      }
      const page = await opts.store.read(await opts.store.cursor(name), opts.batch ?? 50);
      if (page.length === 0) {
        await pause(opts.pollMs, signal);
        continue;
      }
      for (const entry of page) {
        if (signal.aborted) return;
        await settle(token, entry, signal);
      }
    }
  }

  /** Delivers one event until it is delivered or dead-lettered (or the loop stops: then it stays next). */
  async function settle(token: string, entry: OutboxEntry, signal: AbortSignal, replay?: DeadLetter): Promise<void> {
    const parsed = kind.schema.safeParse(entry.event);
    let attempts = 0;
    for (;;) {
      let outcome: DeliveryOutcome;
      if (!parsed.success) outcome = { kind: 'reject', reason: `the outbox entry is not a valid ${kind.what}` };
      else {
        try {
          outcome = await opts.output.deliver(parsed.data, signal);
        } catch (err) {
          outcome = { kind: 'retry', reason: `delivery error: ${describe(err).message}` };
        }
      }
      if (signal.aborted && outcome.kind !== 'delivered') return; // stopped mid-attempt: the event stays next
      attempts = outcome.kind === 'retry' ? await opts.store.countFailedAttempt(name, token, entry.eventId) : attempts + 1;
      const step = nextStep(outcome, attempts, opts.policy);
      if (step.action === 'advance') {
        if (replay) await opts.store.replayed(name, token, replay);
        else await opts.store.advance(name, token, entry.cursor, entry.eventId);
        log.info({ eventId: entry.eventId, replay: Boolean(replay), detail: outcome.kind === 'delivered' ? outcome.detail : undefined }, `${kind.what} delivered`);
        opts.onSettled?.({ eventId: entry.eventId, result: 'delivered', attempts });
        return;
      }
      if (step.action === 'dead-letter') {
        const summary = parsed.success ? kind.summary(parsed.data) : undefined;
        const dl: DeadLetter = {
          id: `${name}-${entry.eventId || entry.cursor}`,
          output: name,
          eventId: entry.eventId,
          cursor: entry.cursor,
          caseId: summary?.caseId ?? '',
          kind: summary?.kind ?? 'unknown',
          codes: summary?.codes ?? [],
          reason: step.reason,
          attempts,
          deadAt: clock().toISOString(),
          status: 'dead',
          replays: replay?.replays ?? 0,
        };
        await opts.store.deadLetter(name, token, dl, replay ? undefined : entry.cursor);
        log.error({ eventId: entry.eventId, reason: step.reason, attempts }, `${kind.what} dead-lettered`);
        opts.onSettled?.({ eventId: entry.eventId, result: 'dead-lettered', attempts });
        return;
      }
      log.warn({ eventId: entry.eventId, attempts, retryInMs: step.delayMs, reason: outcome.kind === 'retry' ? outcome.reason : '' }, `${kind.what} delivery failed; retrying`);
      await pause(step.delayMs, signal);
      if (signal.aborted) return;
    }
  }

  return {
    output: name,
    async stop() {
      stopping.abort();
      await running;
    },
  };
}

function describe(err: unknown): { type: string; message: string } {
  return err instanceof Error ? { type: err.name, message: err.message } : { type: typeof err, message: String(err) };
}
