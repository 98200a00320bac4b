/**
 * What a PACS query may ask and how much of the answer ildflow reads (docs/pacs.md, "Query bounds"):
 * values are matched exactly, and every query is bounded — QIDO-RS with `limit` (PS3.18 §8.3.4.4), C-FIND
 * by stopping the association. One match more than the bound is asked for, so that "more than the bound"
 * is told apart from "exactly the bound"; it is an error (TooManyMatches), never a silent truncation.
 */
import { NOT_EXACT } from '../domain/case.js';
import { TooManyMatches, UnmatchableQuery } from './pacs-errors.js';

/** A patient's studies, a study's series, a series' instances (C-FIND IMAGE level). */
export type MatchLimits = Readonly<{ studies: number; series: number; instances: number }>;

/** A patient with more than 100 chest-CT studies, or a study with more than 200 series, is not a prior CT to guess from. */
export const DEFAULT_MATCH_LIMITS: MatchLimits = { studies: 100, series: 200, instances: 10_000 };

const WHAT = { studies: 'studies', series: 'series', instances: 'instances' } as const;

/** `value` for an exact match on `attribute`, or UnmatchableQuery. */
export function exactValue(value: string | undefined, attribute: string): string | undefined {
  if (value !== undefined && NOT_EXACT.test(value))
    throw new UnmatchableQuery(`${attribute} holds a DICOM wildcard, backslash or control character and cannot be matched exactly`);
  return value;
}

/** `rows`, unless the PACS answered more than `limit` of them. */
export function withinBound<T>(rows: readonly T[], limit: number, kind: keyof MatchLimits, what: string): readonly T[] {
  if (rows.length > limit)
    throw new TooManyMatches(
      `${what}: the PACS has more than ${limit} ${WHAT[kind]} for this query; ildflow does not choose from a cut list${kind === 'studies' ? ' — name the study in the order (studyInstanceUid or accessionNumber)' : ''}`,
    );
  return rows;
}
