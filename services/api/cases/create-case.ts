import type { RequestHandler } from 'express';
import { CreateCaseBody } from '../../../shared/domain/case.js';
import { orderReplay } from '../../../shared/domain/order-replay.js';
import { OrderIdConflict } from '../../../shared/errors.js';
import { parseInput, traceIdOf, userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';

/**
 * POST /v1/cases: 202 for a new order; 200 with the same case when the same source posts the same order
 * again; 409 when the order id is held by another source's order or by a different order (docs/design.md §5).
 */
export const createCase =
  (deps: Pick<ApiDeps, 'store' | 'pipeline' | 'advisoriesFor'>): RequestHandler =>
  async (req, res) => {
    const body = parseInput(CreateCaseBody, req.body);
    const user = userOf(res);
    const { advisories } = deps.advisoriesFor(body.coverage);
    const { case: c, created } = await deps.store.create(body, { actor: user.id, advisories });
    if (!created) {
      const r = orderReplay(c, body, user.id);
      // The answer names neither the case nor anything of its patient: it may be another orderer's.
      if (!r.replay && r.conflict === 'source')
        throw new OrderIdConflict(`order id ${body.order.id} is already used by another ordering source: use an id of your own`);
      if (!r.replay) throw new OrderIdConflict(`order id ${body.order.id} is already used by a different order (${r.differs.join(', ')} differ): use a new order id`);
    }
    // Enqueued on a repeat too while the case is still queued: that recovers an enqueue lost to a crash
    // right after the create (as the reconciler does). Job ids are deterministic, so a live job is not doubled.
    if (c.status === 'queued') await deps.pipeline.enqueueNext(c, traceIdOf(res));
    res
      .status(created ? 202 : 200)
      .location(`/v1/cases/${c.id}`)
      .json({ id: c.id, status: c.status, advisories: c.advisories });
  };
