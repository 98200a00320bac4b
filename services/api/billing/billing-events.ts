import type { RequestHandler } from 'express';
import { z } from 'zod';
import { parseInput } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { auditRead } from '../mount.js';

export const BillingEventsQuery = z.object({
  /** The `next` of the previous page (a Redis stream id); absent: from the start of the feed. */
  after: z.string().regex(/^\d{1,15}-\d{1,10}$/, 'not a cursor from this feed').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * GET /v1/billing/events: events in order after the cursor. At-least-once: a consumer that loses its
 * place re-reads from an older cursor and dedupes on `eventId`. `next` is the cursor to send next time,
 * the same as `after` when nothing new has arrived.
 */
export const billingEvents =
  (deps: Pick<ApiDeps, 'store'>): RequestHandler =>
  async (req, res) => {
    const q = parseInput(BillingEventsQuery, req.query);
    const events = await deps.store.billingEvents(q.after, q.limit);
    // Charge events name the patient: the entry names the cases they are of.
    const cases = events.flatMap((e) => (e.event as { caseId?: unknown } | null)?.caseId ?? []).filter((id): id is string => typeof id === 'string');
    await auditRead(deps.store, req, res, 'billing.events', cases);
    res.json({ events, next: events.at(-1)?.cursor ?? q.after ?? null });
  };
