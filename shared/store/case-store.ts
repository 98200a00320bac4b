/**
 * The case store: Redis is the system of record for cases, their timelines, the audit trail and the
 * billing outbox (docs/design.md §3). Every change goes through `update`, which re-reads and re-decides on a
 * lost race, so a decision is always made against the state it changes.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  PRIORITY_RANK,
  type Case,
  type CaseStatus,
  type CreateCaseBody,
  type TimelineEntry,
} from '../domain/case.js';
import { legacyOrderer } from '../auth/case-access.js';
import { CaseNotFound, CursorExpired, TransitionRefused } from '../errors.js';
import { compareStreamIds } from './stream-ids.js';
import { awaitsSpoolPurge, SPOOL_ENDED } from '../lifecycle/spool-retention.js';
import { canTransition } from '../lifecycle/transitions.js';
import { caseKeys, type Keys, type Outbox } from './keys.js';
import { CREATE_CASE, SCAN_ORDERED_BY, SET_ORDERED_BY, UPDATE_CASE } from './scripts.js';
import { createDeliveryStore } from './delivery-store.js';
import { reviewRow, type ReviewRow } from './review-row.js';
import { createAuditStream, type AuditStream } from '../audit/audit-stream.js';
import type { AuditFields } from '../audit/audit-chain.js';

/**
 * An event appended to an outbox stream in the same step as the case change: the billing outbox (charges,
 * reversals; the default) or the results outbox (ORU^R01 for the EHR, docs/ehr.md).
 */
export type OutboxEvent = Readonly<{ eventId: string; event: unknown; outbox?: Outbox }>;

/**
 * What a decision on a case produces: the next document, why, and the events it emits. `quiet`: the
 * timeline does not record it — for a change that moves no status and changes no holder (a lease renewal),
 * which would otherwise grow the timeline with every renewal.
 */
export type Change = Readonly<{ next: Case; reason: string; events?: readonly OutboxEvent[]; quiet?: boolean }>;

export type Actor = string;

/** `caseIds`: the cases a read of many disclosed. */
export type AuditEntry = AuditFields;

/** `orderedBy`: only the cases this user ordered (an orderer's list, docs/design.md §6). */
export type ListQuery = Readonly<{ status?: CaseStatus; patientId?: string; orderedBy?: string; cursor?: string; limit: number }>;

export type StoredEvent = Readonly<{ cursor: string; eventId: string; event: unknown }>;

const MAX_RACE_RETRIES = 20;

export type CaseStore = ReturnType<typeof createCaseStore>;

export function createCaseStore(redis: Redis, prefix: string, clock: () => Date = () => new Date()) {
  const keys: Keys = caseKeys(prefix);
  const auditStream = createAuditStream(redis, keys, clock);

  async function find(id: string): Promise<Case | null> {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) return null;
    const doc = await redis.hget(keys.case(id), 'doc');
    if (!doc) return null;
    const c = JSON.parse(doc) as Case;
    // A case stored before orderedBy was recorded: derived on every read until `backfillOrderedBy` has
    // written it, so its orderer keeps it through an upgrade (a rolling one included).
    return c.orderedBy === undefined ? withLegacyOrderer(c) : c;
  }

  async function withLegacyOrderer(c: Case): Promise<Case> {
    const first = await redis.lindex(keys.timeline(c.id), 0);
    const orderedBy = legacyOrderer(first ? (JSON.parse(first) as TimelineEntry) : undefined);
    return orderedBy ? { ...c, orderedBy } : c;
  }

  /**
   * Upgrade step, run at every start-up (services/cli/runtime.ts): every case gets its `orderedBy` (from
   * its first timeline entry, `legacyOrderer`) and its place in its orderer's index, so an orderer lists the
   * cases it placed before the field existed. Idempotent and cheap when there is nothing to do: the
   * documents are checked inside Redis, BATCH at a time. Returns how many cases it changed.
   */
  async function backfillOrderedBy(): Promise<number> {
    const BATCH = 500;
    let changed = 0;
    for (let start = 0; ; start += BATCH) {
      const [read, added, lacking] = (await redis.eval(SCAN_ORDERED_BY, 1, keys.all, keys.case(''), keys.orderer(''), start, start + BATCH - 1)) as [number, number, string[]];
      changed += added;
      for (const id of lacking) changed += await recordLegacyOrderer(id);
      if (read < BATCH) return changed;
    }
  }

  async function recordLegacyOrderer(id: string): Promise<number> {
    for (let i = 0; i < MAX_RACE_RETRIES; i++) {
      const [doc, version] = await redis.hmget(keys.case(id), 'doc', 'version');
      if (!doc || !version) return 0;
      const c = await withLegacyOrderer(JSON.parse(doc) as Case);
      if (!c.orderedBy) return 0; // no user posted it: it stays with the roles that see every case
      const next: Case = { ...c, version: Number(version) + 1 };
      const ok = await redis.eval(SET_ORDERED_BY, 2, keys.case(id), keys.orderer(c.orderedBy), version, String(next.version), JSON.stringify(next), id, Date.parse(c.createdAt));
      if (ok === 1) return 1;
    }
    return 0; // changing too quickly: find() still derives it, and the next start-up tries again
  }

  /** The case that holds an order id (HL7 ORC-2 or `order.id`), if any. */
  async function findByOrder(orderId: string): Promise<Case | null> {
    const id = await redis.get(keys.order(orderId));
    return id ? find(id) : null;
  }

  async function get(id: string): Promise<Case> {
    const c = await find(id);
    if (!c) throw new CaseNotFound(`no case ${id}`);
    return c;
  }

  /**
   * Creates the case for an order, or returns the case that already holds this order id (whoever posted
   * it: `orderReplay` decides whether the caller may have it). `actor` is recorded as the ordering source.
   */
  async function create(
    body: CreateCaseBody,
    opts: { actor: Actor; advisories: string[] },
  ): Promise<{ case: Case; created: boolean }> {
    const now = clock().toISOString();
    const id = randomUUID();
    const c: Case = {
      id,
      status: 'queued',
      version: 1,
      createdAt: now,
      updatedAt: now,
      attempt: 0,
      orderedBy: opts.actor,
      order: body.order,
      patient: body.patient,
      ...(body.study ? { requestedStudy: body.study } : {}),
      coverage: body.coverage,
      advisories: opts.advisories,
      artifacts: [],
    };
    const entry: TimelineEntry = { at: now, actor: opts.actor, from: null, to: 'queued', reason: 'order accepted' };
    const [created, holder] = (await redis.eval(
      CREATE_CASE,
      7,
      keys.order(body.order.id),
      keys.case(id),
      keys.all,
      keys.status('queued'),
      keys.timeline(id),
      keys.patient(body.patient.id),
      keys.orderer(opts.actor),
      id,
      JSON.stringify(c),
      Date.parse(now),
      'queued',
      JSON.stringify(entry),
    )) as [number, string];
    return created ? { case: c, created: true } : { case: await get(holder), created: false };
  }

  /**
   * Applies `decide` to the current case and stores the result atomically. A status change must be in
   * docs/design.md §4's table (else TransitionRefused, 409). On a lost race `decide` runs again on the fresh
   * state, so it must be a pure function of the case it is given. `decide` returns null for "no change".
   */
  async function update(id: string, actor: Actor, decide: (current: Case, now: Date) => Change | null): Promise<Case> {
    for (let i = 0; i < MAX_RACE_RETRIES; i++) {
      const current = await get(id);
      const now = clock();
      const change = decide(current, now);
      if (!change) return current;
      const { next: proposed, reason, events = [], quiet = false } = change;
      if (proposed.status !== current.status && !canTransition(current.status, proposed.status))
        throw new TransitionRefused(`a case cannot move from ${current.status} to ${proposed.status}`);
      const next: Case = { ...proposed, id: current.id, version: current.version + 1, updatedAt: now.toISOString() };
      const entry: TimelineEntry = { at: next.updatedAt, actor, from: current.status, to: next.status, reason };
      const ok = (await redis.eval(
        UPDATE_CASE,
        13,
        keys.case(id),
        keys.timeline(id),
        keys.status(current.status),
        keys.status(next.status),
        keys.review,
        keys.leases,
        keys.awaiting,
        keys.billingEvents,
        keys.billingEventIds,
        keys.reviewRows,
        keys.outbox('results').events,
        keys.outbox('results').eventIds,
        keys.spoolsEnded,
        String(current.version),
        String(next.version),
        JSON.stringify(next),
        next.status,
        id,
        quiet && next.status === current.status ? '' : JSON.stringify(entry),
        Date.parse(next.createdAt),
        reviewScore(next),
        next.status === 'in_review' && next.claim ? Date.parse(next.claim.expiresAt) : '',
        next.status === 'awaiting_study' && next.awaitingStudyUntil ? Date.parse(next.awaitingStudyUntil) : '',
        reviewScore(next) === '' ? '' : JSON.stringify(reviewRow(next)),
        awaitsSpoolPurge(next) ? now.getTime() : '',
        ...events.flatMap((e) => [e.outbox ?? 'billing', e.eventId, JSON.stringify(e.event)]),
      )) as number;
      if (ok === 1) return next;
      if (ok === -1) throw new CaseNotFound(`no case ${id}`);
    }
    throw new TransitionRefused(`case ${id} is changing too quickly; try again`);
  }

  /**
   * Moves a case to `to` (checked against the lifecycle table), optionally changing other fields: for tests and
   * tools that walk a case through the table. The service's own moves are decisions in shared/lifecycle.
   */
  function transition(id: string, actor: Actor, to: CaseStatus, reason: string, patch: Partial<Case> = {}): Promise<Case> {
    return update(id, actor, (c) => ({ next: { ...c, ...patch, status: to }, reason }));
  }

  async function timeline(id: string): Promise<TimelineEntry[]> {
    const raw = await redis.lrange(keys.timeline(id), 0, -1);
    return raw.map((r) => JSON.parse(r) as TimelineEntry);
  }

  /**
   * Newest first. The cursor is `<score>:<id>` of the last item returned; members with the same score
   * come in reverse lexicographic order (ZREVRANGEBYSCORE), so ties are resumed exactly, never skipped.
   */
  async function list(q: ListQuery): Promise<{ items: Case[]; nextCursor: string | null }> {
    const key = q.patientId ? keys.patient(q.patientId) : q.orderedBy ? keys.orderer(q.orderedBy) : q.status ? keys.status(q.status) : keys.all;
    const [cursorScore, cursorId] = q.cursor ? [q.cursor.slice(0, q.cursor.indexOf(':')), q.cursor.slice(q.cursor.indexOf(':') + 1)] : ['+inf', ''];
    const after = (score: string, id: string) => !q.cursor || Number(score) < Number(cursorScore) || (score === cursorScore && id < cursorId);
    const items: { c: Case; score: string }[] = [];
    const upper = cursorScore;
    let offset = 0;
    // Over-read, then filter: one index is read (patient, orderer, status or all) and the other filters
    // applied to its documents; hashed patient keys may also collide.
    for (;;) {
      const flat = await redis.zrevrangebyscore(key, upper, '-inf', 'WITHSCORES', 'LIMIT', offset, q.limit * 2);
      const pairs: [string, string][] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      const docs = await Promise.all(pairs.map(([id]) => find(id)));
      for (let i = 0; i < pairs.length && items.length < q.limit; i++) {
        const c = docs[i];
        const [id, score] = pairs[i]!;
        const wanted = (!q.status || c?.status === q.status) && (!q.patientId || c?.patient.id === q.patientId) && (!q.orderedBy || c?.orderedBy === q.orderedBy);
        if (c && after(score, id) && wanted) items.push({ c, score });
      }
      if (items.length >= q.limit || pairs.length < q.limit * 2) break;
      offset += pairs.length;
    }
    const last = items[items.length - 1];
    return { items: items.map((i) => i.c), nextCursor: items.length === q.limit && last ? `${last.score}:${last.c.id}` : null };
  }

  /** `awaiting_review` and `in_review` cases: stat before urgent before routine, then oldest first. */
  async function reviewQueue(limit = 200): Promise<Case[]> {
    const ids = await redis.zrange(keys.review, '0', String(limit - 1));
    const docs = await Promise.all(ids.map(find));
    return docs.filter((c): c is Case => c !== null);
  }

  /**
   * The worklist rows of `reviewQueue`, in the same order, read from the row hash in one round trip. A case
   * queued by a version without rows (an upgrade in flight) is read from its document instead.
   */
  async function reviewRows(limit = 200): Promise<ReviewRow[]> {
    const ids = await redis.zrange(keys.review, '0', String(limit - 1));
    if (!ids.length) return [];
    const rows = await redis.hmget(keys.reviewRows, ...ids);
    const out = await Promise.all(
      ids.map(async (id, i) => {
        const row = rows[i];
        if (row) return JSON.parse(row) as ReviewRow;
        const c = await find(id);
        return c ? reviewRow(c) : null;
      }),
    );
    return out.filter((r): r is ReviewRow => r !== null);
  }

  async function expiredLeases(now: Date): Promise<string[]> {
    return redis.zrangebyscore(keys.leases, '-inf', String(now.getTime()));
  }

  async function awaitingStudyExpired(now: Date): Promise<string[]> {
    return redis.zrangebyscore(keys.awaiting, '-inf', String(now.getTime()));
  }

  async function awaitingStudy(): Promise<string[]> {
    return redis.zrange(keys.awaiting, '0', '-1');
  }

  /**
   * Upgrade step, run by the spool purge until it has run once: cases that ended before the purge index
   * existed are put in it, as ended at their last change. Returns how many it added (0 once done).
   */
  async function backfillSpoolIndex(): Promise<number> {
    if (await redis.exists(keys.spoolsBackfilled)) return 0;
    let added = 0;
    for (const status of SPOOL_ENDED) {
      for (let start = 0; ; start += 500) {
        const ids = await redis.zrange(keys.status(status), String(start), String(start + 499));
        for (const c of await Promise.all(ids.map(find)))
          if (c && awaitsSpoolPurge(c)) added += await redis.zadd(keys.spoolsEnded, 'NX', Date.parse(c.updatedAt), c.id);
        if (ids.length < 500) break;
      }
    }
    await redis.set(keys.spoolsBackfilled, new Date().toISOString());
    return added;
  }

  /** Ended cases whose spool is not purged and that ended at or before `endedBy`, oldest first. */
  async function spoolsEndedBy(endedBy: Date, limit: number): Promise<string[]> {
    return redis.zrangebyscore(keys.spoolsEnded, '-inf', String(endedBy.getTime()), 'LIMIT', 0, limit);
  }

  async function casesOfPatient(patientId: string): Promise<string[]> {
    return redis.zrange(keys.patient(patientId), '0', '-1');
  }

  /** Appends to the hash-chained audit trail (shared/audit), which the files then keep. */
  async function audit(entry: AuditEntry): Promise<void> {
    await auditStream.append(entry);
  }

  /** The entries Redis still holds (a recent window; the daily files hold the whole trail). */
  function auditTrail(limit = 1000): Promise<Record<string, string>[]> {
    return auditStream.recent(limit);
  }

  /**
   * Billing events after a cursor (a Redis stream id), in order. At-least-once: a consumer keeps its cursor.
   * A cursor older than the events the outbox trim removed is refused (CursorExpired, 410).
   */
  async function billingEvents(after: string | undefined, limit: number): Promise<StoredEvent[]> {
    const trimmedTo = after ? await redis.get(keys.billingTrimmedTo) : null;
    if (after && trimmedTo && compareStreamIds(after, trimmedTo) < 0) {
      const [oldest] = await redis.xrange(keys.billingEvents, '-', '+', 'COUNT', 1);
      throw new CursorExpired(`events after ${after} are no longer in the feed (it keeps its window and what every output has delivered): read again without a cursor and dedupe on eventId`, oldest?.[0] ?? null);
    }
    const start = after ? `(${after}` : '-';
    const rows = await redis.xrange(keys.billingEvents, start, '+', 'COUNT', limit);
    return rows.map(([cursor, f]) => {
      const m = Object.fromEntries(pairsOf(f));
      return { cursor, eventId: m.id ?? '', event: JSON.parse(m.event ?? 'null') as unknown };
    });
  }

  return {
    keys,
    find,
    findByOrder,
    get,
    create,
    backfillOrderedBy,
    update,
    transition,
    timeline,
    list,
    reviewQueue,
    reviewRows,
    expiredLeases,
    awaitingStudy,
    awaitingStudyExpired,
    casesOfPatient,
    spoolsEndedBy,
    backfillSpoolIndex,
    audit,
    auditTrail,
    /** The audit stream itself, for the file export (shared/audit/audit-export.ts). */
    auditStream: auditStream as AuditStream,
    billingEvents,
    /** Billing output cursors, locks and the dead-letter list (delivery-store.ts). */
    delivery: createDeliveryStore(redis, prefix),
  };
}

function reviewScore(c: Case): number | '' {
  if (c.status !== 'awaiting_review' && c.status !== 'in_review') return '';
  // Rank in the high digits, creation time (ms, < 1e13 until year 2286) in the low ones.
  return PRIORITY_RANK[c.order.priority] * 1e13 + Date.parse(c.createdAt);
}

function pairsOf(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
