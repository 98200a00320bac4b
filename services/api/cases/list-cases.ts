import type { RequestHandler } from 'express';
import { seesAllCases } from '../../../shared/auth/case-access.js';
import { z } from 'zod';
import { CaseStatus } from '../../../shared/domain/case.js';
import { parseInput, userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { auditRead } from '../mount.js';
import { caseView } from './case-view.js';

export const ListCasesQuery = z.object({
  status: CaseStatus.optional(),
  patientId: z.string().min(1).max(64).optional(),
  /** Opaque: the `next` of the previous page. */
  cursor: z.string().regex(/^\d{1,15}:[A-Za-z0-9-]{1,64}$/, 'not a cursor from this API').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** GET /v1/cases: newest first; `next` is null on the last page. Radiologists and admins list every case. */
export const listCases =
  (deps: Pick<ApiDeps, 'store'>): RequestHandler =>
  async (req, res) => {
    const q = parseInput(ListCasesQuery, req.query);
    const viewer = userOf(res);
    // An orderer lists only the orders it placed (docs/design.md §6), whatever the filters say.
    const { items, nextCursor } = await deps.store.list(seesAllCases(viewer) ? q : { ...q, orderedBy: viewer.id });
    const shown = items.flatMap((c) => {
      const view = caseView(c, viewer);
      return view ? [{ id: c.id, view }] : [];
    });
    // A list shows patients: audited as one read naming the cases shown (the query is not logged: it may hold an MRN).
    await auditRead(deps.store, req, res, q.patientId ? 'case.list.patient' : 'case.list', shown.map((s) => s.id));
    res.json({ items: shown.map((s) => s.view), next: nextCursor });
  };
