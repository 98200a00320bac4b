import type { RequestHandler } from 'express';
import { z } from 'zod';
import { NotFound } from '../../../shared/errors.js';
import { clientIp, parseInput, userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';

export const DeadLettersQuery = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/**
 * GET /v1/admin/dead-letters: billing events an output gave up on, oldest first, with why. Entries carry
 * the case id, event id, codes and the peer's reason — no patient data (the event itself stays in the outbox).
 */
export const listDeadLetters =
  (deps: Pick<ApiDeps, 'store'>): RequestHandler =>
  async (req, res) => {
    const q = parseInput(DeadLettersQuery, req.query);
    const { items, total } = await deps.store.delivery.listDeadLetters(q.offset, q.limit);
    res.json({ items, total, nextOffset: q.offset + items.length < total ? q.offset + items.length : null });
  };

/**
 * POST /v1/admin/dead-letters/{id}/replay: queues the event for redelivery on its output; the output's
 * delivery loop sends it before new events, with the same event id. 202: queued (or already queued).
 * A replay that fails again returns to the list with the new reason.
 */
export const replayDeadLetter =
  (deps: Pick<ApiDeps, 'store' | 'clock'>): RequestHandler =>
  async (req, res) => {
    const user = userOf(res);
    const id = String(req.params.id);
    const now = (deps.clock ?? (() => new Date()))();
    const r = await deps.store.delivery.requestReplay(id, user.id, now);
    if (r.result === 'missing') throw new NotFound(`no dead letter ${id}`);
    await deps.store.audit({ userId: user.id, action: 'billing.dead-letter.replay', caseId: r.deadLetter?.caseId || undefined, ip: clientIp(req), detail: id });
    res.status(202).json({ id, status: r.deadLetter?.status ?? 'replaying', alreadyPending: r.result === 'pending' });
  };
