/**
 * In-process retries of one PACS request. They cover blips (a reset connection, a 503 while the PACS
 * restarts, a credential store reloading); a longer outage is BullMQ's job (shared/queues.ts RETRY:
 * 6 attempts, exponential from 5 s ≈ 2.6 min in all), so these stay short.
 */
export type RetryPolicy = Readonly<{
  /** Tries per request, the first included. */
  attempts: number;
  /** Delay before the second try; doubled for each further one. */
  delayMs: number;
  /** Time to connect and receive the response headers (and each DIMSE PDU). */
  timeoutMs: number;
  /** Longest pause allowed between two chunks of a response body (a stalled transfer). */
  idleMs: number;
}>;

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, delayMs: 500, timeoutMs: 30_000, idleMs: 60_000 };

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
