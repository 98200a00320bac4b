/**
 * Whether an order whose id is already held by a case is a replay of the order that created it (docs/design.md
 * §5: "an order id is unique per ordering source: the same id from the same source returns the existing
 * case; the same id with a different body is a 409, never a silent reuse of another order's case").
 * A replay comes from the same source with the same content, e.g. a client retrying after a lost answer.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Case, CreateCaseBody } from './case.js';

export type OrderReplay =
  | Readonly<{ replay: true }>
  /** `source`: another user posted the id; `content`: the same source, a different order (`differs` names its parts). */
  | Readonly<{ replay: false; conflict: 'source' } | { replay: false; conflict: 'content'; differs: readonly (keyof CreateCaseBody)[] }>;

/** Stored documents went through JSON: compare the new body the same way (no `undefined` members). */
const asStored = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

export function orderReplay(existing: Case, body: CreateCaseBody, orderedBy: string): OrderReplay {
  // A case stored before its source was recorded has none: it is nobody's to replay.
  if (existing.orderedBy !== orderedBy) return { replay: false, conflict: 'source' };
  const stored: Record<keyof CreateCaseBody, unknown> = { order: existing.order, patient: existing.patient, study: existing.requestedStudy, coverage: existing.coverage };
  const differs = (Object.keys(stored) as (keyof CreateCaseBody)[]).filter((k) => !isDeepStrictEqual(asStored(stored[k]), asStored(body[k])));
  return differs.length ? { replay: false, conflict: 'content', differs } : { replay: true };
}
