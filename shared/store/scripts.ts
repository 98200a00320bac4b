/**
 * Lua scripts: each case change is one atomic step in Redis (docs/design.md §3), so a crash never leaves a case
 * half-moved and a charge is never written without the move to `billed` (or the other way round).
 */

/**
 * Create a case unless its order id is known.
 * KEYS: order, case, all, status, timeline, patient, orderer
 * ARGV: id, doc, createdScore, status, timelineEntry
 * Returns the id of the case that holds the order id (the new one or the existing one).
 */
export const CREATE_CASE = `
local existing = redis.call('GET', KEYS[1])
if existing then return {0, existing} end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'doc', ARGV[2], 'version', 1, 'status', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('RPUSH', KEYS[5], ARGV[5])
redis.call('ZADD', KEYS[6], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[7], ARGV[3], ARGV[1])
return {1, ARGV[1]}
`;

/**
 * Compare-and-set a case document on its version, keep the indexes in step, append the timeline entry and
 * append any outbox events (billing, or results for the EHR) — all or nothing.
 * KEYS: case, timeline, oldStatus, newStatus, review, leases, awaiting, billingEvents, billingEventIds, reviewRows,
 *       resultEvents, resultEventIds, spoolsEnded
 * ARGV: expectedVersion, newVersion, doc, newStatus, id, timelineEntry|'', createdScore,
 *       reviewScore|'' (remove), leaseExpiry|'' (remove), awaitingUntil|'' (remove), reviewRow|'' (remove),
 *       endedScore|'' (remove), then outbox ('billing'|'results'), eventId, eventJson triples
 * The review row (review-row.ts) lives and dies with the case's place in the review index. The purge index
 * keeps the time a case first ended (NX): later changes of an ended case do not postpone its purge.
 * Returns 1 on success, 0 when the version moved on (the caller re-reads and re-decides), -1 when missing.
 */
export const UPDATE_CASE = `
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return -1 end
if v ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'doc', ARGV[3], 'version', ARGV[2], 'status', ARGV[4])
if KEYS[3] ~= KEYS[4] then
  redis.call('ZREM', KEYS[3], ARGV[5])
  redis.call('ZADD', KEYS[4], ARGV[7], ARGV[5])
end
if ARGV[6] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[6]) end
if ARGV[8] ~= '' then redis.call('ZADD', KEYS[5], ARGV[8], ARGV[5]) else redis.call('ZREM', KEYS[5], ARGV[5]) end
if ARGV[9] ~= '' then redis.call('ZADD', KEYS[6], ARGV[9], ARGV[5]) else redis.call('ZREM', KEYS[6], ARGV[5]) end
if ARGV[10] ~= '' then redis.call('ZADD', KEYS[7], ARGV[10], ARGV[5]) else redis.call('ZREM', KEYS[7], ARGV[5]) end
if ARGV[11] ~= '' then redis.call('HSET', KEYS[10], ARGV[5], ARGV[11]) else redis.call('HDEL', KEYS[10], ARGV[5]) end
if ARGV[12] ~= '' then redis.call('ZADD', KEYS[13], 'NX', ARGV[12], ARGV[5]) else redis.call('ZREM', KEYS[13], ARGV[5]) end
local i = 13
while ARGV[i] do
  local stream, ids = KEYS[8], KEYS[9]
  if ARGV[i] == 'results' then stream, ids = KEYS[11], KEYS[12] end
  -- An event id is written once, ever: a replayed charge is a no-op, not a second charge.
  if redis.call('HEXISTS', ids, ARGV[i + 1]) == 0 then
    local sid = redis.call('XADD', stream, '*', 'id', ARGV[i + 1], 'event', ARGV[i + 2])
    redis.call('HSET', ids, ARGV[i + 1], sid)
  end
  i = i + 3
end
return 1
`;

/**
 * Upgrade step for cases stored before `orderedBy` (case-store.ts `backfillOrderedBy`): over the members
 * `start`..`stop` of the all-cases index, put each case that names its orderer in that orderer's index,
 * and return the ids of the cases that name none, for the caller to derive it. `"orderedBy":"` can only
 * be the document's own key: inside a JSON string its quotes would be escaped.
 * KEYS: all. ARGV: case key prefix, orderer key prefix (keys.ts, with an empty id), start, stop
 * Returns {members read, index entries added, ids without orderedBy}.
 */
export const SCAN_ORDERED_BY = `
local ids = redis.call('ZRANGE', KEYS[1], ARGV[3], ARGV[4])
local lacking = {}
local added = 0
for _, id in ipairs(ids) do
  local doc = redis.call('HGET', ARGV[1] .. id, 'doc')
  if doc then
    local by = string.match(doc, '"orderedBy":"([A-Za-z0-9._-]+)"')
    if not by then
      table.insert(lacking, id)
    else
      added = added + redis.call('ZADD', ARGV[2] .. by, 'NX', redis.call('ZSCORE', KEYS[1], id), id)
    end
  end
end
return {#ids, added, lacking}
`;

/**
 * Record a legacy case's orderer: compare-and-set on the version (a concurrent change wins and the step
 * is tried again on its result), and add the case to the orderer's index.
 * KEYS: case, orderer. ARGV: expectedVersion, newVersion, doc, id, createdScore. Returns 1, or 0 on a lost race.
 */
export const SET_ORDERED_BY = `
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'doc', ARGV[3], 'version', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
return 1
`;
