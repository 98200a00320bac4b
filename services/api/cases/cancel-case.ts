import type { RequestHandler } from 'express';
import { z } from 'zod';
import { LIMITS } from '../../../shared/domain/case.js';
import { cancelCase as decideCancel } from '../../../shared/lifecycle/index.js';
import { parseInput, userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';

export const CancelBody = z.object({ reason: z.string().trim().min(1).max(LIMITS.reasonChars).optional() });

/** POST /v1/cases/{id}/cancel: before signature only; other states answer 409. */
export const cancelCase =
  (deps: Pick<ApiDeps, 'store'>): RequestHandler =>
  async (req, res) => {
    const { reason } = parseInput(CancelBody, req.body ?? {});
    const user = userOf(res);
    const c = await deps.store.update(String(req.params.id), user.id, (cur, now) => decideCancel(cur, user, now, reason));
    res.json({ id: c.id, status: c.status });
  };
