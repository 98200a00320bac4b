import type { RequestHandler } from 'express';
import { ReconcileBody, reconcileCase as decideReconcile } from '../../../shared/lifecycle/index.js';
import { clientIp, parseInput, traceIdOf, userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';

/**
 * POST /v1/cases/{id}/reconcile: an admin's decision on an `on_hold` case whose study's patient identifiers
 * disagree with the order's (docs/pacs.md). `confirm` resumes retrieval with that study; `cancel` ends the
 * order. Audited (who, what, when, from where) besides the timeline entry.
 */
export const reconcileCase =
  (deps: Pick<ApiDeps, 'store' | 'pipeline'>): RequestHandler =>
  async (req, res) => {
    const body = parseInput(ReconcileBody, req.body ?? {});
    const user = userOf(res);
    const c = await deps.store.update(String(req.params.id), user.id, (cur, now) => decideReconcile(cur, user, now, body));
    await deps.store.audit({ userId: user.id, action: `case.reconcile.${body.decision}`, caseId: c.id, ip: clientIp(req) });
    await deps.pipeline.enqueueNext(c, traceIdOf(res)); // lost to a crash: the reconciler re-creates it
    res.json({ id: c.id, status: c.status });
  };
