import type { RequestHandler } from 'express';
import { caseAccess } from '../../../shared/auth/case-access.js';
import { CaseNotFound } from '../../../shared/errors.js';
import { userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { auditRead } from '../mount.js';
import { caseView, timelineView } from './case-view.js';

/**
 * GET /v1/cases/{id}: the case as the caller may see it (case-view.ts), with its timeline for those who
 * see the whole case. A case the caller may not see is a 404, as if it did not exist. The read is audited
 * before anything is sent.
 */
export const getCase =
  (deps: Pick<ApiDeps, 'store'>): RequestHandler =>
  async (req, res) => {
    const id = String(req.params.id);
    const c = await deps.store.get(id); // throws CaseNotFound (404)
    const viewer = userOf(res);
    const view = caseView(c, viewer);
    if (!view) throw new CaseNotFound(`no case ${id}`);
    await auditRead(deps.store, req, res, 'case.read', c.id);
    const full = caseAccess(c, viewer) === 'full';
    res.json(full ? { ...view, timeline: timelineView(await deps.store.timeline(c.id), viewer) } : view);
  };
