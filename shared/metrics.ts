/** Prometheus registry shared by the API and the workers of one process. Labels never carry PHI or ids. */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type Metrics = Readonly<{
  registry: Registry;
  observeStage(stage: string, outcome: 'ok' | 'error', seconds: number): void;
}>;

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ildflow_' });
  const stageSeconds = new Histogram({
    name: 'ildflow_stage_duration_seconds',
    help: 'Duration of pipeline stage jobs by stage and outcome',
    labelNames: ['stage', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const stageFailures = new Counter({
    name: 'ildflow_stage_failures_total',
    help: 'Failed stage job attempts by stage',
    labelNames: ['stage'] as const,
    registers: [registry],
  });
  return {
    registry,
    observeStage(stage, outcome, seconds) {
      stageSeconds.observe({ stage, outcome }, seconds);
      if (outcome === 'error') stageFailures.inc({ stage });
    },
  };
}
