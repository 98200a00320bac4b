import type { RequestHandler } from 'express';
import { retryCase as decideRetry } from '../../../shared/lifecycle/index.js';
import { traceIdOf, userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';

/** POST /v1/cases/{id}/retry: failed → queued with the next attempt, whose job ids are new. */
export const retryCase =
  (deps: Pick<ApiDeps, 'store' | 'pipeline'>): RequestHandler =>
  async (req, res) => {
    const user = userOf(res);
    const c = await deps.store.update(String(req.params.id), user.id, (cur, now) => decideRetry(cur, user, now));
    await deps.pipeline.enqueueNext(c, traceIdOf(res)); // lost to a crash: the reconciler re-creates it
    res.json({ id: c.id, status: c.status, attempt: c.attempt });
  };
