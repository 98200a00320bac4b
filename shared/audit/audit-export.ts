/**
 * The audit export: copies the chained entries from the Redis stream to the daily files, in stream order,
 * then trims Redis to its window (docs/operations.md "The audit trail"). Every process runs it on a timer;
 * a Redis lease lets one write at a time, so lines never interleave. Where the files stand is read from
 * the files themselves (their last entry), so a crash between a write and recording it writes nothing twice.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { auditDay, parseRecord, sha256Hex } from './audit-chain.js';
import { appendLines, filesTail } from './audit-files.js';
import type { AuditStream } from './audit-stream.js';
import type { RedisLock } from '../store/redis-lock.js';
import { earlierId, streamIdAt } from '../store/stream-ids.js';
import type { Redis } from 'ioredis';

const BATCH = 500;
/** `audit-legacy.jsonl`: the entries written before the chain existed, unchained, with their stream ids. */
const LEGACY_DAY = 'legacy';
const LOCK_TTL_MS = 30_000;

export type AuditExportDeps = Readonly<{
  redis: Redis;
  stream: AuditStream;
  lock: RedisLock;
  /** Key of the stream id the files hold up to (keys.auditExported). */
  exportedKey: string;
  dir: string;
  /** How long Redis keeps exported entries (its window for tools and tests); the files keep everything. */
  redisWindowMs: number;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  clock: () => Date;
  /**
   * Called with each batch's entries, in chain order, once the files hold them: the syslog copy
   * (syslog-sender.ts), which returns at once and never throws, so it cannot hold up the files.
   */
  copy?: (lines: readonly string[]) => void;
}>;

/** One export pass. Returns the entries it wrote (0 when another process holds the lease). */
export async function exportAuditOnce(deps: AuditExportDeps): Promise<number> {
  const token = randomUUID();
  if (!(await deps.lock.acquire(token, LOCK_TTL_MS))) return 0;
  try {
    let tail = await filesTail(deps.dir, { repair: true });
    // Redis restored without its head: the chain goes on from the files instead of starting again.
    if (tail && (await deps.stream.seedHead(tail))) deps.logger.warn({ seq: tail.seq }, 'audit chain head restored from the audit files');
    let cursor = (await deps.redis.get(deps.exportedKey)) ?? undefined;
    let written = 0;
    for (;;) {
      const rows = await deps.stream.read(cursor, BATCH);
      if (!rows.length) break;
      const byDay = new Map<string, string[]>();
      const legacy: string[] = [];
      const chained: string[] = [];
      for (const row of rows) {
        // Entries from before the chain (no seq) are kept as they were, beside the chain, before Redis
        // trims them; entries the files already hold are passed over.
        if (row.seq === undefined || row.text === undefined) {
          legacy.push(JSON.stringify({ streamId: row.id, ...row.fields }));
          continue;
        }
        if (tail && row.seq <= tail.seq) continue;
        const rec = parseRecord(row.text);
        if (!rec) continue;
        if (tail && (rec.seq !== tail.seq + 1 || rec.prev !== tail.hash))
          deps.logger.error({ seq: rec.seq, after: tail.seq }, 'audit entry does not continue the chain in the files (Redis restored from an older backup?)');
        const day = auditDay(rec.at, tail?.day ?? null);
        byDay.set(day, [...(byDay.get(day) ?? []), row.text]);
        chained.push(row.text);
        tail = { seq: rec.seq, hash: sha256Hex(row.text), day };
      }
      if (!(await deps.lock.renew(token, LOCK_TTL_MS))) return written; // another process writes now
      if (legacy.length) await appendLines(deps.dir, LEGACY_DAY, legacy);
      for (const [day, lines] of byDay) await appendLines(deps.dir, day, lines);
      written += chained.length;
      copyOut(deps, chained);
      cursor = rows.at(-1)!.id;
      await deps.redis.set(deps.exportedKey, cursor);
      if (rows.length < BATCH) break;
    }
    if (cursor) await deps.stream.trimBefore(earlierId(streamIdAt(deps.clock().getTime() - deps.redisWindowMs), cursor));
    return written;
  } finally {
    await deps.lock.release(token).catch(() => {});
  }
}

/** Hands the batch to the copy; a copy that fails is logged, and the export goes on. */
function copyOut(deps: AuditExportDeps, lines: readonly string[]): void {
  if (!deps.copy || !lines.length) return;
  try {
    deps.copy(lines);
  } catch (err) {
    deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'audit copy failed (the files hold the entries)');
  }
}

/** Exports every `intervalMs` until closed; closing runs one last pass, so a clean stop leaves nothing behind. */
export function startAuditExport(deps: AuditExportDeps, intervalMs = 1_000): { close(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  const pass = () =>
    (running ??= exportAuditOnce(deps)
      .catch((err: unknown) => deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'audit export failed'))
      .finally(() => (running = null)));
  const timer = setInterval(() => void pass(), intervalMs);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await running;
      await pass();
    },
  };
}
