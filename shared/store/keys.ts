/** Redis key layout. Every key starts with the deployment prefix; patient ids only appear hashed. */
import { createHash } from 'node:crypto';
import type { CaseStatus } from '../domain/case.js';

export type Keys = ReturnType<typeof caseKeys>;

/** The outbox streams: charges for the billing outputs, signed results for the EHR (docs/ehr.md). */
export type Outbox = 'billing' | 'results';

export function caseKeys(prefix: string) {
  const k = (s: string) => `${prefix}:${s}`;
  return {
    case: (id: string) => k(`case:${id}`),
    timeline: (id: string) => k(`case:${id}:timeline`),
    order: (orderId: string) => k(`order:${orderId}`),
    all: k('cases'),
    status: (s: CaseStatus) => k(`status:${s}`),
    // MRNs are PHI: the index key carries a hash, so key names in monitoring tools reveal nothing.
    patient: (patientId: string) => k(`patient:${createHash('sha256').update(patientId).digest('hex').slice(0, 32)}`),
    study: (studyUid: string) => k(`study:${studyUid}`),
    /** The cases a user ordered (`Case.orderedBy`): an orderer's list reads this, not every case. */
    orderer: (userId: string) => k(`orderer:${userId}`),
    review: k('review'),
    /** id → worklist row (review-row.ts) of each case in `review`. */
    reviewRows: k('review:rows'),
    leases: k('leases'),
    awaiting: k('awaiting-study'),
    /** An outbox stream and its written-once event ids: `billing` is billingEvents/billingEventIds. */
    outbox: (o: Outbox) => (o === 'billing' ? { events: k('billing:events'), eventIds: k('billing:event-ids') } : { events: k(`${o}:events`), eventIds: k(`${o}:event-ids`) }),
    billingEvents: k('billing:events'),
    billingEventIds: k('billing:event-ids'),
    /** The newest outbox event trimmed away (workers/billing/trim-outbox.ts): a feed cursor before it is 410. */
    billingTrimmedTo: k('billing:trimmed-to'),
    // Delivery of the billing outbox to its outputs (workers/billing): one cursor, lock, attempt counter and
    // replay queue per output; one dead-letter table for all outputs.
    billingCursor: (output: string) => k(`billing:cursor:${output}`),
    billingLock: (output: string) => k(`billing:lock:${output}`),
    billingAttempts: (output: string) => k(`billing:attempts:${output}`),
    billingReplay: (output: string) => k(`billing:replay:${output}`),
    billingDeadLetters: k('billing:dead-letters'),
    billingDeadLetterIndex: k('billing:dead-letters:index'),
    /** Ended cases whose spool is not purged yet, scored by when they ended (shared/lifecycle/spool-retention.ts). */
    spoolsEnded: k('spools:ended'),
    /** Set once the cases that ended before the index existed are in it (case-store.ts `backfillSpoolIndex`). */
    spoolsBackfilled: k('spools:backfilled'),
    audit: k('audit'),
    // The audit trail's chain (shared/audit): the last entry's `<seq> <sha256>`, the stream id the file
    // export has written up to, and the lease of the one process that writes the files.
    auditHead: k('audit:head'),
    auditExported: k('audit:exported'),
    auditExportLock: k('audit:export-lock'),
    /** Where the reconciler's round-robin over each status index stands (workers/reconcile). */
    reconcileOffsets: k('reconcile:offsets'),
  };
}
