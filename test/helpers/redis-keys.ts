/** Test isolation on the shared Redis: a random key prefix per run, removed afterwards (never FLUSHALL). */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function newPrefix(tag = 'test'): string {
  return `${tag}-${randomUUID().slice(0, 12)}`;
}

export async function scanKeys(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    out.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return out;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await scanKeys(redis, prefix);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
}

/** Removes a test run's keys through a short-lived connection of its own (for teardown after `close()`). */
export async function removePrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const r = new Redis(url);
  try {
    await deleteKeys(r, prefix);
  } finally {
    r.disconnect();
  }
}
