import type { RequestHandler } from 'express';
import { ReviewBody } from '../../../shared/domain/case.js';
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
    // A crash before this enqueue loses nothing: the reconciler re-creates the job a signed case calls for.
    await deps.pipeline.enqueueNext(c, traceIdOf(res));
    res.json({ id: c.id, status: c.status, review: c.review });
  };
