/**
 * The moves a stage makes when a step ends (docs/design.md §2 "The flow", §4): the retrieve stage takes the
 * order, finds nothing yet, finds nothing usable, or has the series; the analyze stage finds the series
 * unusable for the engine; the report stage has the preliminary documents written; billing has the charge.
 * The retrieve and analyze moves run only from the status their stage works in, and refuse (TransitionRefused,
 * 409) a case that moved on meanwhile — cancelled, say; the report and billing ones answer null ("nothing to
 * do") for a case that moved on, because their job may legitimately run again after it did (a retry after a
 * crash). The store re-decides on the state it changes. The physician's moves are in shared/review, the
 * failures' in stage-failure.ts. Pure: the findings are passed in.
 */
import { withArtifact } from '../artifacts/artifact-store.js';
import type { ChargeEvent } from '../billing/charge-event.js';
import type { ArtifactRef, Case, CaseStatus, SourceSeries } from '../domain/case.js';
import { TransitionRefused } from '../errors.js';
import type { Change } from '../store/case-store.js';
import { withoutDiskWait } from './disk-wait.js';

function mustBe(c: Case, from: readonly CaseStatus[], what: string): void {
  if (!from.includes(c.status)) throw new TransitionRefused(`a ${c.status} case cannot ${what}`);
}

/** queued → retrieving: the retrieve stage looks for the prior chest CT. */
export function startRetrieving(c: Case): Change {
  mustBe(c, ['queued'], 'start retrieving');
  return { next: { ...c, status: 'retrieving' }, reason: 'looking for the prior chest CT' };
}

/** retrieving | analyzing → ineligible: no usable prior chest CT, or the series fails the engine; no charge. */
export function becomeIneligible(c: Case, reasons: readonly string[], why = reasons.join('; ')): Change {
  mustBe(c, ['retrieving', 'analyzing'], 'become ineligible');
  return { next: { ...c, status: 'ineligible', ineligibleReasons: [...reasons] }, reason: why };
}

/** retrieving → awaiting_study: nothing in the PACS yet; the wait is bounded by `until` (endWaitIfDue ends it). */
export function startAwaitingStudy(c: Case, until: string, reasons: readonly string[]): Change {
  mustBe(c, ['retrieving'], 'wait for its study');
  return { next: { ...c, status: 'awaiting_study', awaitingStudyUntil: until }, reason: `${reasons.join('; ')}; waiting for the PACS until ${until}` };
}

/** retrieving → analyzing with the series spooled and verified complete. */
export function seriesRetrieved(c: Case, source: SourceSeries, reason: string): Change {
  mustBe(c, ['retrieving'], 'take a retrieved series');
  // A new spool: an earlier one's purge (before an admin retry) no longer describes it; any disk wait is over.
  const { spool: _purged, ...cur } = c;
  return { next: { ...withoutDiskWait(cur), status: 'analyzing', source }, reason };
}

/** analyzing → awaiting_review once the preliminary documents are written: the case enters the review queue. */
export function preliminaryReportReady(c: Case, documents: readonly ArtifactRef[]): Change | null {
  if (c.status !== 'analyzing') return null;
  // A document of the same name (written before a crash) is replaced.
  return { next: { ...c, status: 'awaiting_review', artifacts: documents.reduce(withArtifact, c.artifacts) }, reason: `preliminary report ready (${c.result?.classification.category}); in the review queue` };
}

/**
 * signed → billed with its one charge event, appended to the billing outbox in the same step (docs/design.md §5
 * "Billing"); null once billed or rejected. `charge` is built from the case as the store hands it over (it
 * throws ChargeNotBuildable when documentation is missing), so a retried job charges what the case says now.
 */
export function billSigned(c: Case, now: Date, charge: (c: Case) => ChargeEvent): Change | null {
  if (c.status !== 'signed') return null;
  const event = charge(c);
  const codes = event.lines.map((l) => l.code);
  return {
    next: { ...c, status: 'billed', billing: { eventIds: [event.eventId], codes, billedAt: now.toISOString() } },
    reason: `charge ${event.eventId}: ${event.lines.map((l) => [l.code, ...l.modifiers].join('-')).join(', ')}`,
    events: [{ eventId: event.eventId, event }],
  };
}
