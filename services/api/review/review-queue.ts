import type { RequestHandler } from 'express';
import type { ApiDeps } from '../deps.js';
import { auditRead } from '../mount.js';

/**
 * GET /v1/review/queue: stat, urgent, routine, then oldest first (the store's review index order). Each
 * item is a worklist row (shared/store/review-row.ts): enough to choose a case; the full case is one GET
 * away (and audited there). The rows are kept beside the index, so one answer reads two keys, not 200
 * case documents.
 */
export const reviewQueue =
  (deps: Pick<ApiDeps, 'store'>): RequestHandler =>
  async (req, res) => {
    const items = await deps.store.reviewRows();
    await auditRead(deps.store, req, res, 'review.queue', items.map((r) => r.id));
    res.json({ items });
  };
