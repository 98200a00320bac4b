import { describe, expect, it } from 'vitest';
import { createByteLru } from './byte-lru.js';

describe('createByteLru', () => {
  it('never holds more bytes than its budget, evicting the least recently used first', () => {
    const lru = createByteLru<string>(100);
    lru.set('a', 'A', 40);
    lru.set('b', 'B', 40);
    expect(lru.get('a')).toBe('A'); // a is now the most recent
    lru.set('c', 'C', 40);
    expect(lru.bytes()).toBe(80);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('A');
    expect(lru.get('c')).toBe('C');
  });

  it('stays within the budget over many inserts of mixed sizes', () => {
    const lru = createByteLru<number>(1000);
    for (let i = 0; i < 500; i++) {
      lru.set(`k${i % 37}`, i, 1 + ((i * 97) % 300));
      expect(lru.bytes()).toBeLessThanOrEqual(1000);
    }
    expect(lru.size()).toBeGreaterThan(0);
  });

  it('does not keep an entry larger than the whole budget, and replacing a key frees its old bytes', () => {
    const lru = createByteLru<string>(10);
    lru.set('big', 'x', 11);
    expect(lru.get('big')).toBeUndefined();
    lru.set('k', 'v1', 6);
    lru.set('k', 'v2', 4);
    expect(lru.bytes()).toBe(4);
    expect(lru.get('k')).toBe('v2');
    lru.delete('k');
    expect(lru.bytes()).toBe(0);
  });
});
