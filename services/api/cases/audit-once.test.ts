import { describe, expect, it } from 'vitest';
import { createAuditOnce } from './audit-once.js';

describe('createAuditOnce', () => {
  it('asks for an audit until the view is noted, then not again for that user and case within the TTL', () => {
    const a = createAuditOnce(1000);
    expect(a.due('u1', 'c1', 0)).toBe(true);
    a.note('u1', 'c1', 0);
    expect(a.due('u1', 'c1', 999)).toBe(false);
    expect(a.due('u2', 'c1', 999)).toBe(true); // another physician
    expect(a.due('u1', 'c2', 999)).toBe(true); // another case
    expect(a.due('u1', 'c1', 1000)).toBe(true); // the TTL ran out
  });

  it('forgets the oldest views beyond its bound, so it audits again rather than grow', () => {
    const a = createAuditOnce(60_000, 2);
    a.note('u', 'c1', 0);
    a.note('u', 'c2', 1);
    a.note('u', 'c3', 2);
    expect(a.due('u', 'c1', 3)).toBe(true);
    expect(a.due('u', 'c3', 3)).toBe(false);
  });
});
