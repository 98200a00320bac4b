/**
 * The audit trail in Redis: a stream of chained entries (audit-chain.ts) and the chain's head. An entry is
 * sequenced and chained in one step: the writer builds the line on the head it read, and a script appends
 * it only if the head is still that one (else the writer re-reads and re-chains). So any number of API and
 * worker processes write one chain in one order, the stream's. Redis keeps a recent window (trimmed by the
 * export once the files hold the entries: audit-export.ts); the daily files are the record.
 */
import type { Redis } from 'ioredis';
import { chainEntry, formatHead, parseHead, type AuditFields, type ChainHead } from './audit-chain.js';

/** KEYS: head, stream. ARGV: expected head ('' when none), new head, seq, line. 1 appended, 0 lost the race. */
const APPEND_AUDIT = `
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('XADD', KEYS[2], '*', 'seq', ARGV[3], 'entry', ARGV[4])
return 1`;

const MAX_RACES = 100;

type AuditKeys = Readonly<{ audit: string; auditHead: string }>;

/** One stream entry: its id, and its sequence number and line (absent for an entry older than the chain). */
export type StreamEntry = Readonly<{ id: string; seq?: number; text?: string; fields: Record<string, string> }>;

type WithAppend = Redis & { ildflowAppendAudit(head: string, stream: string, expected: string, next: string, seq: number, text: string): Promise<number> };

export type AuditStream = ReturnType<typeof createAuditStream>;

export function createAuditStream(redis: Redis, keys: AuditKeys, clock: () => Date = () => new Date()) {
  // Registered once per connection (EVALSHA after the first call), not sent with every entry.
  if (!('ildflowAppendAudit' in redis)) redis.defineCommand('ildflowAppendAudit', { numberOfKeys: 2, lua: APPEND_AUDIT });
  const r = redis as WithAppend;

  async function head(): Promise<ChainHead | null> {
    return parseHead(await redis.get(keys.auditHead));
  }

  return {
    head,

    /** Appends one entry at the end of the chain; returns the head it made. */
    async append(fields: AuditFields): Promise<ChainHead> {
      for (let i = 0; i < MAX_RACES; i++) {
        const raw = await redis.get(keys.auditHead);
        const entry = chainEntry(fields, parseHead(raw), clock());
        if ((await r.ildflowAppendAudit(keys.auditHead, keys.audit, raw ?? '', formatHead(entry.head), entry.head.seq, entry.text)) === 1) return entry.head;
      }
      throw new Error('the audit trail is written too quickly to take this entry; try again');
    },

    /** Sets the head when there is none (Redis restored without it: the chain goes on from the files). */
    async seedHead(h: ChainHead): Promise<boolean> {
      return (await redis.set(keys.auditHead, formatHead(h), 'NX')) === 'OK';
    },

    /** Entries after stream id `after` (from the start when undefined), in order. */
    async read(after: string | undefined, count: number): Promise<StreamEntry[]> {
      const rows = await redis.xrange(keys.audit, after ? `(${after}` : '-', '+', 'COUNT', count);
      return rows.map(([id, flat]) => {
        const fields = Object.fromEntries(pairsOf(flat));
        return fields.entry !== undefined ? { id, seq: Number(fields.seq), text: fields.entry, fields } : { id, fields };
      });
    },

    /** Removes the entries older than stream id `minId`. */
    async trimBefore(minId: string): Promise<number> {
      return redis.xtrim(keys.audit, 'MINID', minId);
    },

    /**
     * The oldest `limit` entries Redis still holds, as flat string records (`caseIds` space-separated), for
     * tests and tools; the files hold the whole trail.
     */
    async recent(limit = 1000): Promise<Record<string, string>[]> {
      const rows = await redis.xrange(keys.audit, '-', '+', 'COUNT', String(limit));
      return rows.map(([, flat]) => flatRecord(Object.fromEntries(pairsOf(flat))));
    },
  };
}

function flatRecord(fields: Record<string, string>): Record<string, string> {
  if (fields.entry === undefined) return fields; // written before the chain: already flat
  const rec = JSON.parse(fields.entry) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, Array.isArray(v) ? v.join(' ') : String(v)]));
}

function pairsOf(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
