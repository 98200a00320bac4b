import { describe, expect, it } from 'vitest';
import { createAuthFailures, failureKey } from './auth-throttle.js';

describe('createAuthFailures', () => {
  it('throttles a key after the limit, with the seconds left in its minute, and lets it go when the minute is over', () => {
    let now = 1_000_000;
    const f = createAuthFailures(3, () => now);
    const key = failureKey('10.0.0.1', 'stale');
    for (let i = 0; i < 3; i++) {
      expect(f.retryAfterSeconds(key)).toBeNull();
      f.record(key);
    }
    now += 20_000;
    expect(f.retryAfterSeconds(key)).toBe(40);
    now += 40_000;
    expect(f.retryAfterSeconds(key)).toBeNull();
  });

  it('keeps keys apart: another token from the same address, or the same token from another address, has its own budget', () => {
    const f = createAuthFailures(2, () => 0);
    for (let i = 0; i < 5; i++) f.record(failureKey('10.0.0.1', 'stale'));
    expect(f.retryAfterSeconds(failureKey('10.0.0.1', 'stale'))).not.toBeNull();
    expect(f.retryAfterSeconds(failureKey('10.0.0.1', 'other'))).toBeNull();
    expect(f.retryAfterSeconds(failureKey('10.0.0.2', 'stale'))).toBeNull();
  });
});

describe('failureKey', () => {
  it('holds a fingerprint of the token, never the token', () => {
    const token = 'q'.repeat(43);
    expect(failureKey('::1', token)).not.toContain(token);
    expect(failureKey('::1', token)).toBe(failureKey('::1', token));
  });
});
