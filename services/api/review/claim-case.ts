import type { RequestHandler } from 'express';
import { claimCase as decideClaim, releaseCase as decideRelease } from '../../../shared/review/index.js';
import { userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';

/** POST /v1/cases/{id}/claim: take or renew the lease; 409 while another physician holds it. */
export const claimCase =
  (deps: Pick<ApiDeps, 'store' | 'config'>): RequestHandler =>
  async (req, res) => {
    const user = userOf(res);
    const minutes = deps.config.ILDFLOW_CLAIM_LEASE_MINUTES;
    const c = await deps.store.update(String(req.params.id), user.id, (cur, now) => decideClaim(cur, user, now, minutes));
    res.json({ id: c.id, status: c.status, claim: c.claim });
  };

/** POST /v1/cases/{id}/release: the holder returns the case to the queue. */
export const releaseCase =
  (deps: Pick<ApiDeps, 'store'>): RequestHandler =>
  async (req, res) => {
    const user = userOf(res);
    const c = await deps.store.update(String(req.params.id), user.id, (cur, now) => decideRelease(cur, user, now));
    res.json({ id: c.id, status: c.status });
  };
