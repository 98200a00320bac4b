/**
 * A lease held in one Redis key (SET NX PX with a random token): one holder at a time across processes,
 * freed by its time-to-live when the holder dies. Renew and release check the token first, so a holder
 * whose lease ran out never extends or frees its successor's.
 */
import type { Redis } from 'ioredis';

// KEYS[1] lock; ARGV[1] token, ARGV[2] ttl ms.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export type RedisLock = ReturnType<typeof redisLock>;

export function redisLock(redis: Redis, key: string) {
  return {
    async acquire(token: string, ttlMs: number): Promise<boolean> {
      return (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK';
    },
    async renew(token: string, ttlMs: number): Promise<boolean> {
      return Number(await redis.eval(RENEW, 1, key, token, ttlMs)) === 1;
    },
    async release(token: string): Promise<void> {
      await redis.eval(RELEASE, 1, key, token);
    },
    holder(): Promise<string | null> {
      return redis.get(key);
    },
  };
}
