import type { RequestHandler } from 'express';
import type { Case } from '../../../shared/domain/case.js';
import type { ApiDeps } from '../deps.js';
import { auditRead } from '../mount.js';

/** A worklist row: enough to choose a case; the full case is one GET away (and audited there). */
const row = (c: Case) => ({
  id: c.id,
  status: c.status,
  priority: c.order.priority,
  orderedAt: c.order.orderedAt,
  createdAt: c.createdAt,
  patient: { id: c.patient.id, name: c.patient.name },
  studyDate: c.source?.studyDate,
  /** In the queue since the analysis finished: the waiting time the worklist shows. */
  readySince: c.result?.timings.finishedAt,
  category: c.result?.classification.category,
  claim: c.claim,
});

/** GET /v1/review/queue: stat, urgent, routine, then oldest first (the store's review index order). */
export const reviewQueue =
  (deps: Pick<ApiDeps, 'store'>): RequestHandler =>
  async (req, res) => {
    const items = await deps.store.reviewQueue();
    await auditRead(deps.store, req, res, 'review.queue');
    res.json({ items: items.map(row) });
  };
