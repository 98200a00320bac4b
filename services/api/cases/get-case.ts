import type { RequestHandler } from 'express';
import type { ApiDeps } from '../deps.js';
import { auditRead } from '../mount.js';

/** GET /v1/cases/{id}: the case and its timeline. The read is audited before anything is sent. */
export const getCase =
  (deps: Pick<ApiDeps, 'store'>): RequestHandler =>
  async (req, res) => {
    const id = String(req.params.id);
    const c = await deps.store.get(id); // throws CaseNotFound (404)
    await auditRead(deps.store, req, res, 'case.read', c.id);
    res.json({ ...c, timeline: await deps.store.timeline(c.id) });
  };
