/** Prometheus registry shared by the API and the workers of one process. Labels never carry PHI or ids. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Metrics = Readonly<{
  registry: Registry;
  observeStage(stage: string, outcome: 'ok' | 'error', seconds: number): void;
  observeReconcile(run: ReconcileRunSummary): void;
  observePurge(run: PurgeRunSummary): void;
  observeDisk(state: Readonly<{ freeBytes: number; requiredBytes: number }>): void;
  observeDiskWait(): void;
  /** The audit trail's syslog copy (shared/audit/syslog-sender.ts), in this process. */
  observeAuditSyslog(state: Readonly<{ backlog: number; connected: boolean; droppedNow: number }>): void;
}>;

/** One spool purge run (workers/purge-spools): cases whose series was removed, bytes freed. */
export type PurgeRunSummary = Readonly<{ cases: number; bytes: number }>;

/** One reconciler run (workers/reconcile): cases read, jobs re-created per queue, failures recorded. */
export type ReconcileRunSummary = Readonly<{ cases: number; recreated: Readonly<Partial<Record<string, number>>>; failuresRecorded: number; seconds: number }>;

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
  const recreated = new Counter({
    name: 'ildflow_reconcile_jobs_recreated_total',
    help: 'Stage jobs the reconciler re-created because the case status called for them and they were missing, by queue',
    labelNames: ['queue'] as const,
    registers: [registry],
  });
  const failuresRecorded = new Counter({
    name: 'ildflow_reconcile_failures_recorded_total',
    help: 'Jobs that had failed for good without the case recording it, recorded by the reconciler',
    registers: [registry],
  });
  const lastCases = new Gauge({ name: 'ildflow_reconcile_last_run_cases', help: 'Cases the last reconciler run in this process read', registers: [registry] });
  const lastRun = new Gauge({ name: 'ildflow_reconcile_last_run_timestamp_seconds', help: 'When the last reconciler run in this process ended (Unix time)', registers: [registry] });
  const runSeconds = new Histogram({
    name: 'ildflow_reconcile_run_duration_seconds',
    help: 'Duration of reconciler runs',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const purgedCases = new Counter({
    name: 'ildflow_spool_purged_cases_total',
    help: 'Cases whose spooled series was removed after retention (their reports stay)',
    registers: [registry],
  });
  const purgedBytes = new Counter({ name: 'ildflow_spool_purged_bytes_total', help: 'Bytes of spooled series removed after retention', registers: [registry] });
  const lastPurge = new Gauge({ name: 'ildflow_spool_purge_last_run_timestamp_seconds', help: 'When the last spool purge run in this process ended (Unix time)', registers: [registry] });
  const diskFree = new Gauge({ name: 'ildflow_disk_free_bytes', help: 'Free bytes on the data volume (ILDFLOW_DATA_DIR) at the last check', registers: [registry] });
  const diskRequired = new Gauge({ name: 'ildflow_disk_required_free_bytes', help: 'The watermark ILDFLOW_DISK_MIN_FREE resolves to on the data volume, in bytes', registers: [registry] });
  const diskWaits = new Counter({ name: 'ildflow_retrieval_disk_waits_total', help: 'Retrievals put off or stopped because free space was below ILDFLOW_DISK_MIN_FREE', registers: [registry] });
  const syslogDropped = new Counter({
    name: 'ildflow_audit_syslog_dropped_total',
    help: 'Audit entries dropped from the syslog copy (backlog full while the peer was away, or a refused UDP send); the audit files still hold them',
    registers: [registry],
  });
  const syslogBacklog = new Gauge({ name: 'ildflow_audit_syslog_backlog', help: 'Audit entries waiting in memory for the syslog peer', registers: [registry] });
  const syslogConnected = new Gauge({ name: 'ildflow_audit_syslog_connected', help: '1 when the syslog peer of the audit copy is reachable (TCP/TLS connected; UDP sends accepted), else 0', registers: [registry] });
  return {
    registry,
    observeAuditSyslog(state) {
      if (state.droppedNow) syslogDropped.inc(state.droppedNow);
      syslogBacklog.set(state.backlog);
      syslogConnected.set(state.connected ? 1 : 0);
    },
    observeDisk(state) {
      diskFree.set(state.freeBytes);
      diskRequired.set(state.requiredBytes);
    },
    observeDiskWait() {
      diskWaits.inc();
    },
    observePurge(run) {
      purgedCases.inc(run.cases);
      purgedBytes.inc(run.bytes);
      lastPurge.set(Date.now() / 1000);
    },
    observeReconcile(run) {
      for (const [queue, n] of Object.entries(run.recreated)) if (n) recreated.inc({ queue }, n);
      if (run.failuresRecorded) failuresRecorded.inc(run.failuresRecorded);
      lastCases.set(run.cases);
      lastRun.set(Date.now() / 1000);
      runSeconds.observe(run.seconds);
    },
    observeStage(stage, outcome, seconds) {
      stageSeconds.observe({ stage, outcome }, seconds);
      if (outcome === 'error') stageFailures.inc({ stage });
    },
  };
}
