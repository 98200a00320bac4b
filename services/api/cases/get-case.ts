import type { RequestHandler } from 'express';
import { userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { auditRead } from '../mount.js';
import { caseView, timelineView } from './case-view.js';

/** GET /v1/cases/{id}: the case and its timeline, as the caller may see them. The read is audited before anything is sent. */
export const getCase =
  (deps: Pick<ApiDeps, 'store'>): RequestHandler =>
  async (req, res) => {
    const id = String(req.params.id);
    const c = await deps.store.get(id); // throws CaseNotFound (404)
    await auditRead(deps.store, req, res, 'case.read', c.id);
    const viewer = userOf(res);
    res.json({ ...caseView(c, viewer), timeline: timelineView(await deps.store.timeline(c.id), viewer) });
  };
