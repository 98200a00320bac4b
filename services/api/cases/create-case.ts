import type { RequestHandler } from 'express';
import { CreateCaseBody } from '../../../shared/domain/case.js';
import { QUEUE } from '../../../shared/queues.js';
import { parseInput, traceIdOf, userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';

/** POST /v1/cases: 202 for a new order, 200 with the same case when the order id is already known. */
export const createCase =
  (deps: Pick<ApiDeps, 'store' | 'pipeline' | 'advisoriesFor'>): RequestHandler =>
  async (req, res) => {
    const body = parseInput(CreateCaseBody, req.body);
    const { advisories } = deps.advisoriesFor(body.coverage);
    const { case: c, created } = await deps.store.create(body, { actor: userOf(res).id, advisories });
    // Enqueued on a repeat too while the case is still queued: that recovers an enqueue lost to a crash
    // right after the create. Job ids are deterministic per case and attempt, so a live job is not doubled.
    if (c.status === 'queued') await deps.pipeline.enqueue(QUEUE.retrieve, { caseId: c.id, traceId: traceIdOf(res) }, c.attempt);
    res
      .status(created ? 202 : 200)
      .location(`/v1/cases/${c.id}`)
      .json({ id: c.id, status: c.status, advisories: c.advisories });
  };
