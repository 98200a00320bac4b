import { timingSafeEqual, createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { Unauthenticated } from '../../../shared/errors.js';
import { bearerToken } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { sendProblem } from '../problem.js';

/** GET /healthz: the process answers. No dependency is checked, so a Redis outage does not restart it. */
export const healthz: RequestHandler = (_req, res) => void res.json({ status: 'ok' });

const CHECK_TIMEOUT_MS = 2000;
async function check(fn: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS)));
  try {
    await Promise.race([fn(), timeout]);
    return 'ok';
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

/** GET /readyz: Redis and the PACS answer; 503 problem with each check's outcome otherwise. */
export const readyz =
  (deps: Pick<ApiDeps, 'pingRedis' | 'pacsReady' | 'clock'>): RequestHandler =>
  async (req, res) => {
    const [redis, pacs] = await Promise.all([check(deps.pingRedis), check(deps.pacsReady)]);
    const checks = { redis, pacs };
    const checkedAt = (deps.clock ?? (() => new Date()))().toISOString();
    if (redis === 'ok' && pacs === 'ok') return void res.json({ status: 'ready', checks, checkedAt });
    sendProblem(res, { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'a dependency is not ready', instance: req.path, checks, checkedAt });
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
