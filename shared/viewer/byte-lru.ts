/**
 * A least-recently-used cache bounded by bytes, not by entries: a slice of a 512² series is 512 KiB of HU
 * and 256 KiB of labels, a 1024² one four times that, so an entry count says nothing about memory. The
 * review viewer keeps decoded slices and series indexes in one of these (docs/review.md "The viewer").
 * An entry larger than the whole budget is not kept.
 */
export type ByteLru<V> = Readonly<{
  get(key: string): V | undefined;
  set(key: string, value: V, bytes: number): void;
  delete(key: string): void;
  /** Bytes held now (never above `maxBytes`). */
  bytes(): number;
  size(): number;
}>;

export function createByteLru<V>(maxBytes: number): ByteLru<V> {
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recent first.
  const entries = new Map<string, { value: V; bytes: number }>();
  let held = 0;
  const drop = (key: string) => {
    const e = entries.get(key);
    if (!e) return;
    entries.delete(key);
    held -= e.bytes;
  };
  return {
    get(key) {
      const e = entries.get(key);
      if (!e) return undefined;
      entries.delete(key);
      entries.set(key, e);
      return e.value;
    },
    set(key, value, bytes) {
      drop(key);
      if (bytes > maxBytes) return;
      entries.set(key, { value, bytes });
      held += bytes;
      for (const k of entries.keys()) {
        if (held <= maxBytes) break;
        drop(k);
      }
    },
    delete: drop,
    bytes: () => held,
    size: () => entries.size,
  };
}
