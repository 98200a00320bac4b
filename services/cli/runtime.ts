/**
 * The composition root for `ildflow start` and `ildflow demo`: the only place that constructs clients
 * (docs/style.md §6). Roles: `api`, `worker` (all stages) or `worker:NAME` (one stage), any combination;
 * the embedded default runs them all in one process.
 */
import type { Server } from 'node:http';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import { createArtifactStore } from '../../shared/artifacts/artifact-store.js';
import { createProviderTokens } from '../../shared/auth/provider-tokens.js';
import { createUserDirectory, loadUsersFile, type User } from '../../shared/auth/users.js';
import { advisoriesFor } from '../../shared/billing/payer-advisories.js';
import type { Config } from '../../shared/config.js';
import { createEngine } from '../../shared/engines/create-engine.js';
import { createLogger, type Logger } from '../../shared/logger.js';
import { createMetrics } from '../../shared/metrics.js';
import { createImageSource } from '../../shared/pacs/create-source.js';
import { QUEUE, createPipeline, type QueueName } from '../../shared/queues.js';
import { connectRedis, pingConnection, pingRedis } from '../../shared/redis.js';
import { createCaseStore } from '../../shared/store/case-store.js';
import { redisLock } from '../../shared/store/redis-lock.js';
import { auditDir } from '../../shared/audit/audit-files.js';
import { startAuditExport } from '../../shared/audit/audit-export.js';
import { createSyslogSender } from '../../shared/audit/syslog-sender.js';
import { diskState, readDisk } from '../../shared/artifacts/disk-space.js';
import { createApp } from '../api/app.js';
import { startOrthancPoller } from '../api/triggers/orthanc-poller.js';
import { startOrderListener } from '../ehr/order-listener.js';
import { orderSettings } from '../../shared/ehr/order-settings.js';
import { startWorkers } from '../../workers/main.js';
import { startMetricsServer } from '../../workers/metrics-server.js';

export type Role = 'api' | 'worker' | `worker:${QueueName}`;

export function parseRoles(text: string): Role[] {
  const stages = Object.values(QUEUE) as string[];
  return text.split(',').map((r) => {
    const t = r.trim();
    if (t === 'api' || t === 'worker') return t;
    if (t.startsWith('worker:') && stages.includes(t.slice(7))) return t as Role;
    throw new Error(`unknown role "${t}": use api, worker or worker:${stages.join('|worker:')}`);
  });
}

export type Runtime = Readonly<{
  config: Config;
  logger: Logger;
  store: ReturnType<typeof createCaseStore>;
  /** Where the API listens, once started. */
  url: string | null;
  /** Where the HL7 order listener listens (ILDFLOW_HL7_LISTEN, api role), once started. */
  hl7OrdersUrl: string | null;
  close(): Promise<void>;
}>;

export async function openRuntime(
  config: Config,
  opts: { roles: readonly Role[]; users?: readonly User[]; logger?: Logger; sweepIntervalMs?: number },
): Promise<Runtime> {
  const logger = opts.logger ?? createLogger({ level: config.ILDFLOW_LOG_LEVEL });
  const users = opts.users ?? loadUsersFile(config.ILDFLOW_USERS_FILE);
  const source = createImageSource(config.ILDFLOW_PACS ?? 'file:///nonexistent', { auth: config.ILDFLOW_PACS_AUTH, maxInstanceBytes: config.ILDFLOW_MAX_INSTANCE_BYTES });
  const engine = createEngine(config.ILDFLOW_ENGINE, { timeoutMs: config.ILDFLOW_ENGINE_TIMEOUT_SECONDS * 1000, threads: config.ILDFLOW_ENGINE_THREADS });
  await pingRedis(config.REDIS_URL).catch((err: Error) => {
    throw new Error(`Redis does not answer at ${config.REDIS_URL} (${err.message}). Start one: redis-server, or see README "Prerequisites".`);
  });
  const redis = connectRedis(config.REDIS_URL, { name: 'ildflow' });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const prefix = config.ILDFLOW_REDIS_PREFIX;
  const store = createCaseStore(redis, prefix);
  // Cases stored before the orderer was recorded get it now, before anyone reads or lists them.
  const backfilled = await store.backfillOrderedBy();
  if (backfilled) logger.info({ cases: backfilled }, 'recorded the orderer of cases stored before it was kept');
  const pipeline = createPipeline(redis, prefix);
  const metrics = createMetrics();
  const artifacts = createArtifactStore(config.ILDFLOW_DATA_DIR);
  // The audit trail's syslog copy (ILDFLOW_AUDIT_SYSLOG): fed by the export once the files hold each batch.
  const syslog = config.ILDFLOW_AUDIT_SYSLOG
    ? createSyslogSender({
        target: config.ILDFLOW_AUDIT_SYSLOG,
        origin: { hostname: hostname(), procId: String(process.pid), facility: config.ILDFLOW_AUDIT_SYSLOG_FACILITY },
        backlogMax: config.ILDFLOW_AUDIT_SYSLOG_BACKLOG,
        tls: config.auditSyslogTls,
        logger,
        observe: metrics.observeAuditSyslog,
      })
    : null;
  // Every process exports the audit trail to the daily files; a lease lets one write at a time (shared/audit).
  const auditExport = startAuditExport({
    redis,
    stream: store.auditStream,
    lock: redisLock(redis, store.keys.auditExportLock),
    exportedKey: store.keys.auditExported,
    dir: auditDir(config.ILDFLOW_DATA_DIR),
    redisWindowMs: config.ILDFLOW_AUDIT_REDIS_DAYS * 24 * 3600 * 1000,
    logger,
    clock: () => new Date(),
    copy: syslog?.send,
  });

  const stages = opts.roles.includes('worker')
    ? (Object.values(QUEUE) as QueueName[])
    : opts.roles.filter((r) => r.startsWith('worker:')).map((r) => r.slice(7) as QueueName);
  const workers = stages.length
    ? startWorkers(
        { config, redis, store, pipeline, artifacts, source, engine, logger, clock: () => new Date(), observeStage: metrics.observeStage, observeReconcile: metrics.observeReconcile, observePurge: metrics.observePurge, observeDisk: metrics.observeDisk, observeDiskWait: metrics.observeDiskWait },
        { connection: redis, stages, sweepIntervalMs: opts.sweepIntervalMs },
      )
    : null;

  // Billing outputs (MLLP, signed webhook) deliver from the outbox in the billing worker role. Loaded only
  // when one is configured, so a deployment without them never loads their dependencies.
  const billingOutputsOn = Boolean(config.ILDFLOW_HL7_MLLP || config.ILDFLOW_BILLING_WEBHOOK_URL);
  const delivery =
    stages.includes(QUEUE.billing) && billingOutputsOn
      ? await (await import('../../workers/billing/start-delivery.js')).startBillingDelivery({ config, redis, logger })
      : null;

  // Signed results to the EHR (ORU^R01 over MLLP, docs/ehr.md), from the results outbox, beside the report stage.
  const results =
    config.ILDFLOW_RESULTS_MLLP && stages.includes(QUEUE.report)
      ? (await import('../../workers/results/results-output.js')).startResultsDelivery({
          config,
          redis,
          logger,
          readArtifact: (caseId, name) => readFile(artifacts.artifactPath(caseId, name)),
        })
      : null;

  // Orthanc's /changes feed resumes cases awaiting their study (docs/pacs.md); runs beside the retrieve stage.
  const orthancPoller =
    config.ILDFLOW_ORTHANC_URL && stages.includes(QUEUE.retrieve)
      ? startOrthancPoller(
          { redis, prefix, store, pipeline, logger },
          { url: config.ILDFLOW_ORTHANC_URL, auth: config.ILDFLOW_PACS_AUTH, intervalMs: config.ILDFLOW_ORTHANC_POLL_SECONDS * 1000 },
        )
      : null;

  // A worker-only process has no API to serve /metrics: ILDFLOW_METRICS_PORT gives it its own (docs/operations.md).
  const metricsServer =
    stages.length && !opts.roles.includes('api') && config.ILDFLOW_METRICS_PORT !== undefined
      ? await startMetricsServer(metrics.registry, { port: config.ILDFLOW_METRICS_PORT, host: config.ILDFLOW_HOST, token: config.ILDFLOW_METRICS_TOKEN })
      : null;
  if (metricsServer) logger.info({ url: `${metricsServer.url}/metrics` }, 'worker metrics listening');

  let server: Server | null = null;
  let url: string | null = null;
  if (opts.roles.includes('api')) {
    const app = createApp({
      config,
      store,
      users: createUserDirectory(users),
      // People sign in at the hospital's OpenID Provider; its discovery is read on the first provider token,
      // so the API starts (and machine tokens work) while the provider is down.
      providerTokens: config.ILDFLOW_OIDC_ISSUER
        ? createProviderTokens({
            issuer: config.ILDFLOW_OIDC_ISSUER,
            audience: config.ILDFLOW_OIDC_AUDIENCE,
            claims: { roles: config.ILDFLOW_OIDC_ROLES_CLAIM, npi: config.ILDFLOW_OIDC_NPI_CLAIM },
          })
        : undefined,
      reviewSignIn: config.ILDFLOW_OIDC_ISSUER && config.ILDFLOW_OIDC_CLIENT_ID ? { issuer: config.ILDFLOW_OIDC_ISSUER, clientId: config.ILDFLOW_OIDC_CLIENT_ID } : undefined,
      pipeline,
      logger,
      metrics: metrics.registry,
      pingRedis: () => pingConnection(redis), // the runtime's connection: a probe opens none of its own
      pacsReady: () => source.ping(),
      // The data volume against its watermark: retrievals wait while it is low (docs/operations.md).
      diskState: async () => {
        const state = diskState(await readDisk(config.ILDFLOW_DATA_DIR), config.ILDFLOW_DISK_MIN_FREE);
        metrics.observeDisk(state);
        return state;
      },
      // The configured payer advisory table (ILDFLOW_PAYER_ADVISORIES_FILE), shown when a case is created.
      advisoriesFor: (coverage) => advisoriesFor(coverage, config.payerAdvisories),
    });
    server = app.listen(config.ILDFLOW_PORT, config.ILDFLOW_HOST);
    await once(server, 'listening');
    const addr = server.address();
    url = typeof addr === 'object' && addr ? `http://${config.ILDFLOW_HOST}:${addr.port}` : null;
    logger.info({ url }, 'api listening');
  }
  // HL7 orders from the EHR (docs/ehr.md) enter beside the REST API, in the api role.
  const orderListener =
    config.ILDFLOW_HL7_LISTEN && opts.roles.includes('api')
      ? await startOrderListener(
          { store, pipeline, logger, clock: () => new Date(), settings: orderSettings(config), advisoriesFor: (coverage) => advisoriesFor(coverage, config.payerAdvisories) },
          { url: config.ILDFLOW_HL7_LISTEN, maxMessageBytes: config.ILDFLOW_HL7_MAX_MESSAGE_BYTES },
        )
      : null;
  logger.info({ roles: opts.roles, stages, engine: engine.descriptor.id, source: source.kind }, 'ildflow started');

  return {
    config,
    logger,
    store,
    url,
    hl7OrdersUrl: orderListener?.url ?? null,
    async close() {
      await orderListener?.close();
      if (server) {
        server.close();
        server.closeAllConnections();
      }
      await delivery?.close();
      await results?.stop();
      await metricsServer?.close();
      await orthancPoller?.stop();
      await workers?.close(config.ILDFLOW_SHUTDOWN_GRACE_SECONDS * 1000);
      await source.close?.(); // the DIMSE C-MOVE receiver, when one was started
      await auditExport.close(); // the last entries reach the files before Redis is let go
      await syslog?.close(); // then their syslog copy, waiting a bounded time for the peer
      await pipeline.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
