/**
 * GET /metrics of a worker-only process (`ildflow start --role worker…` with ILDFLOW_METRICS_PORT): the
 * process's own stage durations and failures (shared/metrics.ts) and its runtime metrics, in the
 * Prometheus text format, behind ILDFLOW_METRICS_TOKEN when one is set — the same contract as the API's
 * /metrics. Plain node:http: a worker process carries no web framework for one route. Queue depths are
 * global (they live in Redis), so the API's /metrics reports them once, not every worker.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Registry } from 'prom-client';

export type MetricsServer = Readonly<{ url: string; close(): Promise<void> }>;

export async function startMetricsServer(registry: Registry, opts: { port: number; host: string; token?: string }): Promise<MetricsServer> {
  const sha = (s: string) => createHash('sha256').update(s).digest();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/healthz')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const presented = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    // Hash both sides so the comparison is constant-time whatever the lengths (as the API's /metrics).
    if (opts.token && !timingSafeEqual(sha(presented), sha(opts.token))) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="ildflow-metrics"' }).end('metrics need the metrics bearer token\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    );
  });
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://${opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
