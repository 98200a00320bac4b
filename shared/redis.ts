/** Redis connections. Only composition roots (services/api/main.ts, workers/main.ts, the CLI) call these. */
import { Redis } from 'ioredis';

export type { Redis };

/**
 * A connection for commands and for BullMQ. `maxRetriesPerRequest: null` is what BullMQ requires of worker
 * connections (a blocking command must not be abandoned while Redis reconnects).
 */
export function connectRedis(url: string, opts: { name?: string; lazy?: boolean } = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: opts.name ?? 'ildflow',
    lazyConnect: opts.lazy ?? false,
  });
}

/**
 * PING on an open connection (the readiness check: no connection of its own per call). Rejects at once
 * when the connection is lost, so a probe during an outage leaves no command waiting in the offline queue
 * (with `maxRetriesPerRequest: null` it would wait there until Redis is back); while it is still opening,
 * the PING waits for it like any command.
 */
export async function pingConnection(redis: Redis): Promise<void> {
  if (['reconnecting', 'close', 'end'].includes(redis.status)) throw new Error(`the Redis connection is ${redis.status}`);
  await redis.ping();
}

/** Resolves when Redis at `url` answers PING on a new connection, or rejects after `timeoutMs` with the reason. */
export async function pingRedis(url: string, timeoutMs = 1500): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  r.on('error', () => {}); // the rejection below reports it
  try {
    await r.connect();
    await r.ping();
  } finally {
    r.disconnect();
  }
}
