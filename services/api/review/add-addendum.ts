import type { RequestHandler } from 'express';
import { buildReversalEvent } from '../../../shared/billing/charge-event.js';
import { AddendumBody } from '../../../shared/domain/case.js';
import { withResultEvent } from '../../../shared/ehr/result-event.js';
import { addAddendum as decideAddendum } from '../../../shared/review/index.js';
import { parseInput, userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { scanChargeEvents } from './charge-events.js';

/**
 * POST /v1/cases/{id}/addendum. The charges are loaded before the atomic update; if the case is billed
 * in between, the decision finds no charges and answers 409 (try again) rather than losing the reversal.
 */
export const addAddendum =
  (deps: Pick<ApiDeps, 'store' | 'chargeEventsOf'>): RequestHandler =>
  async (req, res) => {
    const body = parseInput(AddendumBody, req.body);
    const user = userOf(res);
    const current = await deps.store.get(String(req.params.id));
    const ids = body.decision === 'reject' ? (current.billing?.eventIds ?? []) : [];
    const charges = ids.length ? await (deps.chargeEventsOf ?? ((x) => scanChargeEvents(deps.store, x)))(ids) : [];
    const reversals = { charges, build: buildReversalEvent };
    // An addendum to a result the EHR has is sent to it as a corrected result (OBR-25 C, docs/ehr.md).
    const c = await deps.store.update(current.id, user.id, (cur, now) => withResultEvent(decideAddendum(cur, user, body, now, reversals), 'addendum'));
    res.json({ id: c.id, status: c.status, review: c.review, billing: c.billing });
  };
