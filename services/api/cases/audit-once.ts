/**
 * One audit entry per case view, not one per slice (docs/design.md §6: every PHI read is audited; a
 * physician scrolling 300 slices is one disclosure, not 300). `GET …/viewer` always audits and notes the
 * (user, case) pair; a slice read audits only when no view of that case by that user was noted within
 * `ttlMs` (a client that skipped the viewer document, or came back after the claim lease), so no slice
 * is ever read unaudited. The notes are in-process and bounded: with several API replicas a view may be
 * audited once per replica it reaches — more entries, never fewer.
 */
export type AuditOnce = Readonly<{
  /** Records that this user's view of this case was audited now. */
  note(userId: string, caseId: string, now: number): void;
  /** True when a read by this user of this case must be audited (no view noted within the TTL). */
  due(userId: string, caseId: string, now: number): boolean;
}>;

export function createAuditOnce(ttlMs: number, maxEntries = 10_000): AuditOnce {
  const noted = new Map<string, number>(); // insertion order = oldest first
  const key = (u: string, c: string) => `${u}\n${c}`;
  return {
    note(userId, caseId, now) {
      const k = key(userId, caseId);
      noted.delete(k);
      noted.set(k, now);
      for (const [old, at] of noted) {
        if (noted.size <= maxEntries && now - at < ttlMs) break;
        noted.delete(old);
      }
    },
    due(userId, caseId, now) {
      const at = noted.get(key(userId, caseId));
      return at === undefined || now - at >= ttlMs;
    },
  };
}
