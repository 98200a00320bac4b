import type { RequestHandler } from 'express';
import { nextJob, retryCase as decideRetry } from '../../../shared/lifecycle/index.js';
import { clientIp, traceIdOf, userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';

/**
 * POST /v1/cases/{id}/retry: failed → queued with the next attempt, whose job ids are new; or, for a signed case
 * whose final report or billing stage failed, that stage's job again (shared/lifecycle/retry-case.ts). 409 when
 * there is nothing to retry. Audited (who, which job, from where) besides the timeline entry.
 */
export const retryCase =
  (deps: Pick<ApiDeps, 'store' | 'pipeline'>): RequestHandler =>
  async (req, res) => {
    const user = userOf(res);
    const c = await deps.store.update(String(req.params.id), user.id, (cur, now) => decideRetry(cur, user, now));
    const job = nextJob(c);
    await deps.store.audit({ userId: user.id, action: 'case.retry', caseId: c.id, ip: clientIp(req), detail: `${c.status}: ${job ? job.queue : 'no'} job of attempt ${c.attempt}` });
    await deps.pipeline.enqueueNext(c, traceIdOf(res)); // lost to a crash: the reconciler re-creates it
    res.json({ id: c.id, status: c.status, attempt: c.attempt });
  };
