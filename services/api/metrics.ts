/** Prometheus metrics of the API: request durations by route template (never by raw path: ids are unbounded). */
import type { RequestHandler } from 'express';
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Pipeline } from '../../shared/queues.js';

const DURATION = 'ildflow_http_request_duration_seconds';
const QUEUE_JOBS = 'ildflow_queue_jobs';

/** Registers (once per registry) and returns the request-timing middleware. */
export function httpMetrics(registry: Registry, pipeline: Pick<Pipeline, 'depths'>): RequestHandler {
  const duration =
    (registry.getSingleMetric(DURATION) as Histogram<'method' | 'route' | 'status'> | undefined) ??
    new Histogram({
      name: DURATION,
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  if (!registry.getSingleMetric(QUEUE_JOBS))
    new Gauge({
      name: QUEUE_JOBS,
      help: 'Jobs per pipeline queue and state, read from Redis on each scrape',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
      async collect() {
        const depths = await pipeline.depths();
        for (const [queue, states] of Object.entries(depths))
          for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
      },
    });

  return (req, res, next) => {
    const end = duration.startTimer();
    res.on('finish', () => end({ method: req.method, route: (res.locals.route as string | undefined) ?? 'unmatched', status: String(res.statusCode) }));
    next();
  };
}
