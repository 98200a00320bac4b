/** Redis stream ids (`<ms>-<seq>`, https://redis.io/docs/latest/develop/data-types/streams/): order and time. */

/** Negative, zero or positive as `a` comes before, with or after `b`. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || (as ?? 0) - (bs ?? 0);
}

/** The first id at or after a time: entries older than `at` have smaller ids. */
export const streamIdAt = (at: number): string => `${Math.max(0, Math.floor(at))}-0`;

/** The earlier of two ids. */
export const earlierId = (a: string, b: string): string => (compareStreamIds(a, b) <= 0 ? a : b);
