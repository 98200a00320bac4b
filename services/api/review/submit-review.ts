import type { RequestHandler } from 'express';
import { ReviewBody } from '../../../shared/domain/case.js';
import { QUEUE } from '../../../shared/queues.js';
import { submitReview as decideReview } from '../../../shared/review/index.js';
import { parseInput, traceIdOf, userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';

/** POST /v1/cases/{id}/review: sign or reject; a signature starts the final (verified) report. */
export const submitReview =
  (deps: Pick<ApiDeps, 'store' | 'pipeline'>): RequestHandler =>
  async (req, res) => {
    const body = parseInput(ReviewBody, req.body);
    const user = userOf(res);
    const c = await deps.store.update(String(req.params.id), user.id, (cur, now) => decideReview(cur, user, body, now));
    if (c.status === 'signed')
      await deps.pipeline.enqueue(QUEUE.report, { caseId: c.id, traceId: traceIdOf(res), phase: 'final' }, c.attempt);
    res.json({ id: c.id, status: c.status, review: c.review });
  };
