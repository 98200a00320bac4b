import { timingSafeEqual, createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { Unauthenticated } from '../../../shared/errors.js';
import { describeShortage, type DiskState } from '../../../shared/artifacts/disk-space.js';
import { bearerToken } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { sendProblem } from '../problem.js';

/** GET /healthz: the process answers. No dependency is checked, so a Redis outage does not restart it. */
export const healthz: RequestHandler = (_req, res) => void res.json({ status: 'ok' });

const CHECK_TIMEOUT_MS = 2000;
/**
 * How long one PACS check answers for every /readyz. The route is public and the check is an authenticated
 * QIDO-RS request (or a C-ECHO): a flood of probes, or of anonymous callers, makes at most one PACS
 * request per interval. Shorter than a Kubernetes probe's default period (10 s), so readiness still follows.
 */
export const PACS_CHECK_REUSE_MS = 5000;

/** A check's outcome; `reason` (which may name a peer URL) goes to the log, never into the answer. */
type Outcome = Readonly<{ ok: true } | { ok: false; reason: string }>;

async function check(fn: () => Promise<void>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS)));
  try {
    await Promise.race([fn(), timeout]);
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** The outcome of `run`, reused for `ms` after it started; callers meanwhile share the one in flight. */
function reusedFor(ms: number, now: () => number, run: () => Promise<Outcome>): () => Promise<Outcome> {
  let last: { at: number; outcome: Promise<Outcome> } | null = null;
  return () => {
    const t = now();
    if (!last || t - last.at >= ms) last = { at: t, outcome: run() };
    return last.outcome;
  };
}

/**
 * GET /readyz: Redis and the PACS answer; 503 problem otherwise. The data volume's free space against its
 * watermark is reported beside them (`disk`: `ok` or `low`). Each check says only `ok` or `failed`
 * (docs/design.md §6: peer URLs never appear in API answers); why it failed is logged at warn when a failure
 * starts or its reason changes, so a flood of probes during an outage does not flood the log.
 */
export const readyz = (deps: Pick<ApiDeps, 'pingRedis' | 'pacsReady' | 'diskState' | 'clock' | 'logger'>): RequestHandler => {
  const clock = deps.clock ?? (() => new Date());
  const pacsCheck = reusedFor(PACS_CHECK_REUSE_MS, () => clock().getTime(), () => check(deps.pacsReady));
  const diskCheck = async (): Promise<DiskState | null> => (deps.diskState ? deps.diskState().catch(() => null) : null);
  const lastReason = new Map<string, string>();
  const note = (name: string, o: Outcome) => {
    const reason = o.ok ? 'ok' : o.reason;
    if (lastReason.get(name) === reason) return;
    if (o.ok) {
      if (lastReason.has(name)) deps.logger.info({ check: name }, 'readiness check recovered');
    } else deps.logger.warn({ check: name, reason: o.reason }, 'readiness check failed');
    lastReason.set(name, reason);
  };
  return async (req, res) => {
    const [redis, pacs, disk] = await Promise.all([check(deps.pingRedis), pacsCheck(), diskCheck()]);
    note('redis', redis);
    note('pacs', pacs);
    if (disk) note('disk', disk.low ? { ok: false, reason: describeShortage(disk) } : { ok: true });
    const checks = { redis: redis.ok ? 'ok' : 'failed', pacs: pacs.ok ? 'ok' : 'failed', ...(disk ? { disk: disk.low ? 'low' : 'ok' } : {}) };
    const checkedAt = clock().toISOString();
    // A low disk stops retrieval only: the API still serves reviews and reports, so it stays in the load
    // balancer (200) and says so — `degraded`, with the numbers (no path) — for the operator's probe.
    if (redis.ok && pacs.ok && disk?.low)
      return void res.json({ status: 'degraded', detail: 'free space on the data volume is below ILDFLOW_DISK_MIN_FREE: retrievals wait', checks, disk: { freeBytes: disk.freeBytes, requiredBytes: disk.requiredBytes }, checkedAt });
    if (redis.ok && pacs.ok) return void res.json({ status: 'ready', checks, checkedAt });
    sendProblem(res, { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'a dependency is not ready', instance: req.path, checks, checkedAt });
  };
};

const sha = (s: string) => createHash('sha256').update(s).digest();

/** GET /metrics: the Prometheus text format; behind ILDFLOW_METRICS_TOKEN when one is configured. */
export const metrics =
  (deps: Pick<ApiDeps, 'metrics' | 'config'>): RequestHandler =>
  async (req, res) => {
    const required = deps.config.ILDFLOW_METRICS_TOKEN;
    // Hash both sides so the comparison is constant-time whatever the lengths.
    if (required && !timingSafeEqual(sha(bearerToken(req.get('authorization')) ?? ''), sha(required))) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="ildflow-metrics"');
      throw new Unauthenticated('metrics need the metrics bearer token');
    }
    res.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  };
