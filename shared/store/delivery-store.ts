/**
 * The delivery side of the billing outbox (docs/design.md §5 "Outputs", §7). Each output (mllp, webhook) reads
 * the outbox stream with its own cursor. One delivery loop per output runs at a time across processes: it
 * holds `billing:lock:<output>` (SET NX PX with a random token, renewed while it works), and every write
 * that moves the cursor, counts an attempt or dead-letters an event is a Lua step that first checks the
 * token — a fenced write. A loop that lost its lock (paused process, network split) can still be running,
 * but it can no longer move the cursor, so two loops never race on it.
 *
 * Dead letters: one hash of entries (id `<output>-<eventId>`) plus a time index. Replay puts the id on the
 * output's replay list; the lock holder delivers replays before new events.
 */
import type { Redis } from 'ioredis';
import { caseKeys, type Outbox } from './keys.js';
import { redisLock } from './redis-lock.js';

export type DeadLetterStatus = 'dead' | 'replaying';

export type DeadLetter = Readonly<{
  id: string;
  output: string;
  eventId: string;
  /** The outbox stream id of the event (where the event itself is read on replay). */
  cursor: string;
  caseId: string;
  kind: string;
  codes: string[];
  reason: string;
  attempts: number;
  deadAt: string;
  status: DeadLetterStatus;
  replays: number;
  replayRequestedAt?: string;
  replayRequestedBy?: string;
}>;

export type OutboxEntry = Readonly<{ cursor: string; eventId: string; event: unknown }>;

/** Thrown by a fenced write when this loop no longer holds the output's lock. */
export class DeliveryLockLost extends Error {
  constructor(output: string) {
    super(`the delivery lock of output ${output} was lost`);
    this.name = 'DeliveryLockLost';
  }
}

// KEYS: lock, cursor, attempts. ARGV: token, cursor, eventId. Moves the cursor past a delivered event.
const ADVANCE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[3])
return 1`;

// KEYS: lock, attempts. ARGV: token, eventId. Returns the failed-attempt count.
const COUNT_ATTEMPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
return redis.call('HINCRBY', KEYS[2], ARGV[2], 1)`;

// KEYS: lock, cursor, attempts, deadLetters, index, replay. ARGV: token, cursor|'' (replay: no move),
// eventId, id, json, score. Dead-letters an event and, for a stream event, moves the cursor past it.
const DEAD_LETTER = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2]) end
redis.call('HDEL', KEYS[3], ARGV[3])
redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])
redis.call('ZADD', KEYS[5], ARGV[6], ARGV[4])
redis.call('LREM', KEYS[6], 0, ARGV[4])
return 1`;

// KEYS: lock, attempts, deadLetters, index, replay. ARGV: token, eventId, id. A replay was delivered.
const REPLAYED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[3])
redis.call('ZREM', KEYS[4], ARGV[3])
redis.call('LREM', KEYS[5], 0, ARGV[3])
return 1`;

// KEYS: deadLetters, replay(output). ARGV: id, json-with-status-replaying.
// 0: no such dead letter; 2: a replay is already pending; 1: queued.
const REQUEST_REPLAY = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
if string.find(cur, '"status":"replaying"', 1, true) then return 2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1`;

// KEYS: events, trimmedTo. ARGV: minId. Removes the events before minId and records the newest removed.
const TRIM_OUTBOX = `
local last = redis.call('XREVRANGE', KEYS[1], '(' .. ARGV[1], '-', 'COUNT', 1)
if #last == 0 then return 0 end
local n = redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
redis.call('SET', KEYS[2], last[1][1])
return n`;

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;

/** `outbox`: the stream the outputs read (billing's charges, or the results for the EHR); cursors, locks and
 *  dead letters are per output name, whichever stream it reads. */
export function createDeliveryStore(redis: Redis, prefix: string, outbox: Outbox = 'billing') {
  const keys = caseKeys(prefix);
  const stream = keys.outbox(outbox).events;

  async function fenced(output: string, result: Promise<unknown>): Promise<number> {
    const n = Number(await result);
    if (n === -1) throw new DeliveryLockLost(output);
    return n;
  }

  async function getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const raw = await redis.hget(keys.billingDeadLetters, id);
    return raw ? (JSON.parse(raw) as DeadLetter) : undefined;
  }

  return {
    acquireLock: (output: string, token: string, ttlMs: number) => redisLock(redis, keys.billingLock(output)).acquire(token, ttlMs),
    renewLock: (output: string, token: string, ttlMs: number) => redisLock(redis, keys.billingLock(output)).renew(token, ttlMs),
    releaseLock: (output: string, token: string) => redisLock(redis, keys.billingLock(output)).release(token),
    lockHolder: (output: string) => redisLock(redis, keys.billingLock(output)).holder(),

    async cursor(output: string): Promise<string | undefined> {
      return (await redis.get(keys.billingCursor(output))) ?? undefined;
    },
    /** Outbox events after `cursor` (a stream id), in order. */
    async read(after: string | undefined, count: number): Promise<OutboxEntry[]> {
      const rows = await redis.xrange(stream, after ? `(${after}` : '-', '+', 'COUNT', count);
      return rows.map(([cursor, f]) => entryOf(cursor, f));
    },
    /** One outbox event by its stream id. */
    async readAt(cursor: string): Promise<OutboxEntry | undefined> {
      const [row] = await redis.xrange(stream, cursor, cursor);
      return row ? entryOf(row[0], row[1]) : undefined;
    },

    advance(output: string, token: string, cursor: string, eventId: string): Promise<number> {
      return fenced(output, redis.eval(ADVANCE, 3, keys.billingLock(output), keys.billingCursor(output), keys.billingAttempts(output), token, cursor, eventId));
    },
    countFailedAttempt(output: string, token: string, eventId: string): Promise<number> {
      return fenced(output, redis.eval(COUNT_ATTEMPT, 2, keys.billingLock(output), keys.billingAttempts(output), token, eventId));
    },
    /** Dead-letters an event; `advanceTo` moves the cursor (a stream event), absent for a failed replay. */
    deadLetter(output: string, token: string, entry: DeadLetter, advanceTo?: string): Promise<number> {
      return fenced(
        output,
        redis.eval(
          DEAD_LETTER,
          6,
          keys.billingLock(output),
          keys.billingCursor(output),
          keys.billingAttempts(output),
          keys.billingDeadLetters,
          keys.billingDeadLetterIndex,
          keys.billingReplay(output),
          token,
          advanceTo ?? '',
          entry.eventId,
          entry.id,
          JSON.stringify(entry),
          String(Date.parse(entry.deadAt)),
        ),
      );
    },
    replayed(output: string, token: string, dl: DeadLetter): Promise<number> {
      return fenced(
        output,
        redis.eval(REPLAYED, 5, keys.billingLock(output), keys.billingAttempts(output), keys.billingDeadLetters, keys.billingDeadLetterIndex, keys.billingReplay(output), token, dl.eventId, dl.id),
      );
    },
    /** The next dead letter queued for replay on this output, if any. */
    async nextReplay(output: string): Promise<DeadLetter | undefined> {
      for (;;) {
        const id = await redis.lindex(keys.billingReplay(output), 0);
        if (!id) return undefined;
        const dl = await getDeadLetter(id);
        if (dl) return dl;
        await redis.lrem(keys.billingReplay(output), 0, id); // deleted meanwhile: drop the stale request
      }
    },

    getDeadLetter,
    /** Removes the outbox events before stream id `minId`; the feed then refuses cursors before them (410). */
    async trimOutbox(minId: string): Promise<number> {
      return Number(await redis.eval(TRIM_OUTBOX, 2, keys.billingEvents, keys.billingTrimmedTo, minId));
    },
    /** Dead letters, oldest first, by offset (the list is short: each entry is an operator's to-do). */
    async listDeadLetters(offset: number, limit: number): Promise<{ items: DeadLetter[]; total: number }> {
      const [ids, total] = await Promise.all([
        redis.zrange(keys.billingDeadLetterIndex, String(offset), String(offset + limit - 1)),
        redis.zcard(keys.billingDeadLetterIndex),
      ]);
      const raws = ids.length ? await redis.hmget(keys.billingDeadLetters, ...ids) : [];
      return { items: raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as DeadLetter), total };
    },
    /** Queues a dead letter for replay; 'missing' | 'pending' (already queued) | 'queued'. */
    async requestReplay(id: string, by: string, now: Date): Promise<{ result: 'missing' | 'pending' | 'queued'; deadLetter?: DeadLetter }> {
      const dl = await getDeadLetter(id);
      if (!dl) return { result: 'missing' };
      const next: DeadLetter = { ...dl, status: 'replaying', replays: dl.replays + 1, replayRequestedAt: now.toISOString(), replayRequestedBy: by };
      const n = Number(await redis.eval(REQUEST_REPLAY, 2, keys.billingDeadLetters, keys.billingReplay(dl.output), id, JSON.stringify(next)));
      if (n === 0) return { result: 'missing' };
      if (n === 2) return { result: 'pending', deadLetter: (await getDeadLetter(id)) ?? dl };
      return { result: 'queued', deadLetter: next };
    },
  };
}

function entryOf(cursor: string, flat: string[]): OutboxEntry {
  const m: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) m[flat[i]!] = flat[i + 1]!;
  return { cursor, eventId: m.id ?? '', event: JSON.parse(m.event ?? 'null') as unknown };
}
