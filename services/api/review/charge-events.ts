import { ChargeEvent } from '../../../shared/billing/charge-event.js';
import type { CaseStore } from '../../../shared/store/case-store.js';

const PAGE = 500;

/**
 * Finds charge events by id in the billing feed. A linear scan: adequate while the feed is trimmed or
 * small; a deployment with an id → event lookup injects `ApiDeps.chargeEventsOf` instead.
 */
export async function scanChargeEvents(store: Pick<CaseStore, 'billingEvents'>, ids: readonly string[]): Promise<ChargeEvent[]> {
  const wanted = new Set(ids);
  const found: ChargeEvent[] = [];
  let after: string | undefined;
  while (wanted.size > 0) {
    const page = await store.billingEvents(after, PAGE);
    for (const e of page) {
      if (!wanted.has(e.eventId)) continue;
      // A stored charge that is not a ChargeEvent is corruption, not a client error: a plain Error → 500.
      const parsed = ChargeEvent.safeParse(e.event);
      if (!parsed.success) throw new Error(`stored billing event ${e.eventId} is not a valid charge event`);
      found.push(parsed.data);
      wanted.delete(e.eventId);
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.cursor;
  }
  return found;
}
