import { describe, expect, it } from 'vitest';
import { matchesIfNoneMatch, strongEtag } from './conditional.js';

describe('strongEtag', () => {
  it('is a quoted opaque tag that changes with any part', () => {
    const a = strongEtag('c-1', 3, 'hu');
    expect(a).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(strongEtag('c-1', 3, 'hu')).toBe(a);
    expect(strongEtag('c-1', 4, 'hu')).not.toBe(a);
    expect(strongEtag('c-1', 3, 'labels')).not.toBe(a);
  });
});

describe('matchesIfNoneMatch', () => {
  const tag = '"abc"';
  it.each([
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['*', true],
    ['"abd"', false],
    [undefined, false],
    ['', false],
  ])('%j → %s (RFC 9110 §13.1.2 weak comparison)', (header, expected) => {
    expect(matchesIfNoneMatch(header, tag)).toBe(expected);
  });
});
