/**
 * Resuming cases that wait for their study (docs/design.md §4 `awaiting_study`). Each matching case moves to
 * `retrieving` exactly once: the move goes through the store's compare-and-set, and a case that is no
 * longer waiting is refused — so a repeated event (Orthanc can report a study stable more than once, and
 * the Lua hook is fire-and-forget, reconciled by polling) resumes nothing twice.
 */
import type { Case } from '../../../shared/domain/case.js';
import { TransitionRefused } from '../../../shared/errors.js';
import { matchesStudyEvent, resumeAwaitingStudy, type StudyEvent } from '../../../shared/lifecycle/index.js';
import type { ApiDeps } from '../deps.js';

/** Waiting cases are few (a bounded wait); the scan stops at this many to bound the request. */
const MAX_SCAN = 2000;
const PAGE = 200;

async function waitingCases(store: ApiDeps['store']): Promise<Case[]> {
  const out: Case[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ status: 'awaiting_study', cursor, limit: PAGE });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && out.length < MAX_SCAN);
  return out;
}

/** Returns the ids of the cases resumed by this event. */
export async function resumeWaiting(
  deps: Readonly<{ store: ApiDeps['store']; pipeline: Pick<ApiDeps['pipeline'], 'enqueueNext'> }>,
  ev: StudyEvent,
  actor: string,
  traceId: string,
): Promise<string[]> {
  const resumed: string[] = [];
  for (const candidate of (await waitingCases(deps.store)).filter((c) => matchesStudyEvent(c, ev))) {
    let c: Case;
    try {
      c = await deps.store.update(candidate.id, actor, (cur, now) => resumeAwaitingStudy(cur, now, ev));
    } catch (err) {
      if (err instanceof TransitionRefused) continue; // resumed by an earlier event, or cancelled since
      throw err;
    }
    // The first retrieve job of this attempt already exists, so the resume has its own job id (nextJob).
    await deps.pipeline.enqueueNext(c, traceId);
    resumed.push(c.id);
  }
  return resumed;
}
