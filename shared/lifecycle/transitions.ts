/**
 * The lifecycle's table (docs/design.md §4): the only moves a case may make. The case store checks every
 * status change against it in its compare-and-set update (shared/store/case-store.ts), so a move not listed
 * here is refused with 409 whichever decision proposed it.
 */
import { CASE_STATUSES, type CaseStatus } from '../domain/case.js';

export const TRANSITIONS: Readonly<Record<CaseStatus, readonly CaseStatus[]>> = {
  queued: ['retrieving', 'awaiting_study', 'cancelled'],
  awaiting_study: ['retrieving', 'ineligible', 'cancelled'],
  retrieving: ['analyzing', 'ineligible', 'failed', 'awaiting_study', 'on_hold'],
  on_hold: ['retrieving', 'cancelled'],
  analyzing: ['awaiting_review', 'ineligible', 'failed'],
  awaiting_review: ['in_review', 'cancelled'],
  in_review: ['signed', 'rejected', 'awaiting_review'],
  signed: ['billed', 'rejected'],
  billed: ['reversed'],
  rejected: [],
  ineligible: [],
  failed: ['queued'],
  cancelled: [],
  reversed: [],
};
// Departures from docs/design.md §4's table, as a hospital would expect (noted there):
// - awaiting_study → cancelled: an order withdrawn while ildflow waits for the study must be cancellable.
// - retrieving → awaiting_study: the PACS has the study but it is still arriving (incomplete series).
// - signed → rejected: an addendum that rejects the result before the charge was emitted (no charge).
// A signed case whose final report or billing failed stays signed (stage-failure.ts): its retry is not a move.

export function canTransition(from: CaseStatus, to: CaseStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export const TERMINAL: ReadonlySet<CaseStatus> = new Set(CASE_STATUSES.filter((s) => TRANSITIONS[s].length === 0));
