/**
 * Configuration: parsed once at start-up from the environment (docs/design.md §5 "Configuration"). Every
 * problem is listed at once; callers (the CLI) print them and exit non-zero. No other module reads
 * process.env.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { ConfigInvalid } from './errors.js';
import { DEFAULT_PAYER_ADVISORIES, parsePayerAdvisoryTable, type PayerAdvisoryTable } from './billing/payer-advisories.js';
import { DEFAULT_MAX_INSTANCE_BYTES } from './pacs/instance-cap.js';
import { DEFAULT_MIN_FREE, parseMinFree } from './artifacts/disk-space.js';
import { isAllowedProviderUrl } from './auth/provider-claims.js';
import { SYSLOG_FACILITIES, type SyslogFacility } from './audit/syslog-message.js';
import { parseSyslogTarget } from './audit/syslog-target.js';

const PacsUrl = z.string().refine((u) => /^(https?:\/\/|dicom:\/\/|file:\/\/)/.test(u), {
  message: 'must be http(s)://host/dicom-web, dicom://AET@host:port?… or file:///dir',
});

/**
 * One trusted proxy: an IP address, a CIDR block, or one of the names express's `trust proxy` knows
 * (`loopback`, `linklocal`, `uniquelocal`). `true` and hop counts are refused: they would believe an
 * X-Forwarded-For or X-Forwarded-Proto that any client can write.
 */
function isProxyAddress(item: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(item)) return true;
  const [ip, bits, extra] = item.split('/');
  const family = isIP(ip ?? '');
  if (!family || extra !== undefined) return false;
  // A /0 block is every address: as credulous as `true` (and refused by express's proxy-addr).
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) >= 1 && Number(bits) <= (family === 4 ? 32 : 128));
}

const TrustProxy = z
  .string()
  .refine((v) => v.split(',').every((item) => isProxyAddress(item.trim())), {
    message: 'must be a comma-separated list of proxy addresses or CIDR blocks (or loopback, linklocal, uniquelocal)',
  });

const Env = z
  .object({
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be redis://host:port[/db]').default('redis://127.0.0.1:6379'),
    /** Prefix of every Redis key ildflow writes, BullMQ's included: several deployments (or test runs) can share a Redis. */
    ILDFLOW_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/).default('ildflow'),
    ILDFLOW_PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(8080),
    ILDFLOW_HOST: z.string().min(1).default('127.0.0.1'),
    /**
     * The TLS-terminating proxies in front of the API (docs/security.md). A request from one of them is taken
     * to come from the X-Forwarded-For client (throttle, audit) over the X-Forwarded-Proto protocol (the
     * dashboard cookie's Secure); unset: the socket's address and protocol, whatever the headers say.
     */
    ILDFLOW_TRUST_PROXY: TrustProxy.optional(),
    /** `auto`: the dashboard cookie is Secure when the request came over TLS; `always`: on every answer. */
    ILDFLOW_COOKIE_SECURE: z.enum(['auto', 'always']).default('auto'),
    ILDFLOW_DATA_DIR: z.string().min(1).default('./var'),
    /**
     * How long Redis keeps audit entries once the daily files hold them (shared/audit, docs/operations.md
     * "The audit trail"): the recent window tools read; the files are the record, kept six years
     * (45 CFR 164.316(b)(2)).
     */
    ILDFLOW_AUDIT_REDIS_DAYS: z.coerce.number().positive().max(3650).default(7),
    /**
     * A syslog peer that also gets every audit entry, RFC 5424 (shared/audit/syslog-message.ts,
     * docs/operations.md "The audit trail"): a copy beside the files, which stay the record. Unset: none.
     */
    ILDFLOW_AUDIT_SYSLOG: z
      .string()
      .refine((v) => parseSyslogTarget(v) !== null, { message: 'must be udp://host:port, tcp://host:port or tls://host:port' })
      .transform((v) => parseSyslogTarget(v)!)
      .optional(),
    /** The facility of those messages (RFC 5424 §6.2.1): authpriv, or local0–local7 for a site's SIEM. */
    ILDFLOW_AUDIT_SYSLOG_FACILITY: z
      .enum(Object.keys(SYSLOG_FACILITIES) as [SyslogFacility, ...SyslogFacility[]])
      .default('authpriv'),
    /** PEM CA certificate(s) a tls:// peer's certificate must chain to (RFC 5425 §5); default: Node's CAs. */
    ILDFLOW_AUDIT_SYSLOG_CA_FILE: z.string().min(1).optional(),
    /**
     * The client certificate and key (PEM) ildflow presents to a tls:// peer that authenticates its
     * senders (RFC 5425 §4.2: both ends support certificate-based authentication). Both or neither.
     */
    ILDFLOW_AUDIT_SYSLOG_CERT_FILE: z.string().min(1).optional(),
    ILDFLOW_AUDIT_SYSLOG_KEY_FILE: z.string().min(1).optional(),
    /** Entries kept in memory while the syslog peer is away; past it the oldest are dropped from the copy. */
    ILDFLOW_AUDIT_SYSLOG_BACKLOG: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    /**
     * Spool retention (shared/lifecycle/spool-retention.ts, docs/operations.md "Spool retention"): hours a
     * case's spooled series is kept after the case ends (0: purged at the next run), and how often the purge
     * runs. Reports stay; the images remain in the PACS.
     */
    ILDFLOW_SPOOL_RETENTION_HOURS: z.coerce.number().min(0).max(24 * 3650).default(720),
    ILDFLOW_SPOOL_PURGE_INTERVAL_SECONDS: z.coerce.number().positive().max(24 * 3600).default(3600),
    /**
     * Disk watermark of the data volume (shared/artifacts/disk-space.ts, docs/operations.md "Disk
     * watermarks"): bytes (`5000000000`, `5GB`, `20GiB`) or a percentage (`10%`); below it retrieval waits,
     * re-checking every ILDFLOW_DISK_RECHECK_SECONDS. Default: the larger of 10 % and 5 GB.
     */
    ILDFLOW_DISK_MIN_FREE: z
      .string()
      .refine((v) => parseMinFree(v) !== null, { message: 'must be a byte count (e.g. 5000000000, 5GB, 20GiB) or a percentage of the volume (e.g. 10%)' })
      .transform((v) => parseMinFree(v)!)
      .default(DEFAULT_MIN_FREE),
    ILDFLOW_DISK_RECHECK_SECONDS: z.coerce.number().positive().max(3600).default(30),
    ILDFLOW_PACS: PacsUrl.optional(),
    ILDFLOW_PACS_AUTH: z
      .string()
      .regex(/^(basic:[^:]+:.+|bearer:.+)$/, 'must be basic:user:password or bearer:token')
      .optional(),
    /**
     * The largest DICOM instance a retrieval takes, in bytes (WADO-RS part, C-STORE data set): a larger one is
     * cut off as it arrives and fails the case (shared/pacs/instance-cap.ts, docs/pacs.md).
     */
    ILDFLOW_MAX_INSTANCE_BYTES: z.coerce.number().int().min(1024 * 1024).max(2 ** 31).default(DEFAULT_MAX_INSTANCE_BYTES),
    /**
     * Orthanc's REST root (e.g. http://orthanc:8042), when the PACS is an Orthanc: the worker role then
     * polls its /changes feed for StableStudy events (docs/pacs.md), with ILDFLOW_PACS_AUTH.
     */
    ILDFLOW_ORTHANC_URL: z.string().regex(/^https?:\/\/.+/, 'must be http(s)://host:port of the Orthanc REST API').optional(),
    /** Pause between two polls of Orthanc's /changes once it is caught up. */
    ILDFLOW_ORTHANC_POLL_SECONDS: z.coerce.number().positive().max(3600).default(5),
    ILDFLOW_USERS_FILE: z.string({ error: 'required: the path of the JSON users file' }).min(1),
    /**
     * The hospital's OpenID Provider (docs/security.md "Sign-in"): the API then also accepts its JWT access
     * tokens. https, except on a loopback address; its discovery document is read on the first such token.
     */
    ILDFLOW_OIDC_ISSUER: z
      .string()
      .refine(isAllowedProviderUrl, { message: 'must be an https:// URL (http:// only on a loopback address such as 127.0.0.1)' })
      .optional(),
    /** The review page's client at the provider: a public client, authorization code + PKCE (docs/security.md). */
    ILDFLOW_OIDC_CLIENT_ID: z.string().min(1).max(200).optional(),
    /** The `aud` an access token must contain (RFC 7519 §4.1.3; RFC 8707 resource indicators). */
    ILDFLOW_OIDC_AUDIENCE: z.string().min(1).max(500).default('ildflow'),
    /** The claims carrying the user's roles (array or space-separated string) and NPI. */
    ILDFLOW_OIDC_ROLES_CLAIM: z.string().min(1).max(200).default('roles'),
    ILDFLOW_OIDC_NPI_CLAIM: z.string().min(1).max(200).default('npi'),
    ILDFLOW_ENGINE: z
      .string()
      .regex(/^(reference|https?:\/\/.+|command:.+)$/, 'must be reference, http(s)://… or command:/path')
      .default('reference'),
    ILDFLOW_HL7_MLLP: z.string().regex(/^mllp:\/\/[^:/]+:\d+$/, 'must be mllp://host:port').optional(),
    /**
     * Where ildflow accepts HL7 v2 orders (ORM^O01, OMI^O23) over MLLP (docs/ehr.md); port 0 picks a free
     * one (tests). Unset: no order listener.
     */
    ILDFLOW_HL7_LISTEN: z.string().regex(/^mllp:\/\/[^:/]+:\d+$/, 'must be mllp://host:port').optional(),
    /** OBR-4.1 codes that order the analysis, besides CPT 0877T (a site's local order codes), comma-separated. */
    ILDFLOW_HL7_ORDER_CODES: z
      .string()
      .regex(/^[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*$/, 'must be a comma-separated list of codes')
      .default('0877T'),
    /**
     * IN1 → coverage.payer: `CODE=payer,…` where CODE is IN1-2.1 (plan id) or IN1-3.1 (company id) and payer
     * one of ildflow's payers; replaces the default table (docs/ehr.md). Unmapped plans are `other`.
     */
    ILDFLOW_HL7_PAYERS: z
      .string()
      .refine((v) => v.split(',').every((p) => /^[^=,]+=(medicare|aetna|bcbs|cigna|uhc|self-pay|other)$/.test(p.trim())), {
        message: 'must be CODE=payer,… with payer one of medicare, aetna, bcbs, cigna, uhc, self-pay, other',
      })
      .optional(),
    /** The largest HL7 order message the listener reads; a longer frame closes the connection. */
    ILDFLOW_HL7_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    /**
     * The EHR's results interface: each signed result (and addendum) as an ORU^R01 over MLLP (docs/ehr.md).
     * Unset: no results are sent.
     */
    ILDFLOW_RESULTS_MLLP: z.string().regex(/^mllp:\/\/[^:/]+:\d+$/, 'must be mllp://host:port').optional(),
    /** MSH-5 / MSH-6 of the ORU^R01 messages. */
    ILDFLOW_RESULTS_RECEIVING_APPLICATION: z.string().min(1).max(60).default('EHR'),
    ILDFLOW_RESULTS_RECEIVING_FACILITY: z.string().min(1).max(60).default('EHR'),
    ILDFLOW_BILLING_WEBHOOK_URL: z.string().url().optional(),
    ILDFLOW_BILLING_WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
    ILDFLOW_BILLING_MODE: z.enum(['global', 'split']).default('global'),
    /**
     * The REST billing feed's window (workers/billing/trim-outbox.ts, docs/billing.md): the outbox keeps at
     * least this many days of events, and whatever an output has not delivered; older ones are trimmed.
     */
    ILDFLOW_BILLING_FEED_WINDOW_DAYS: z.coerce.number().positive().max(3650).default(30),
    /** JSON payer advisory table replacing the defaults of docs/design.md (shared/billing/payer-advisories.ts). */
    ILDFLOW_PAYER_ADVISORIES_FILE: z.string().min(1).optional(),
    /** MSH-4 / MSH-5 / MSH-6 of the DFT^P03 messages (and PID-3's assigning authority). */
    ILDFLOW_HL7_SENDING_FACILITY: z.string().min(1).max(60).default('ILDFLOW'),
    ILDFLOW_HL7_RECEIVING_APPLICATION: z.string().min(1).max(60).default('BILLING'),
    ILDFLOW_HL7_RECEIVING_FACILITY: z.string().min(1).max(60).default('BILLING'),
    /** Bounded waits of the billing outputs: the MLLP ACK and the webhook answer. */
    ILDFLOW_HL7_ACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    ILDFLOW_BILLING_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
    /** Delivery retries per event before it is dead-lettered, and the first backoff (doubling, capped at 5 min). */
    ILDFLOW_BILLING_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
    ILDFLOW_BILLING_RETRY_BASE_MS: z.coerce.number().int().min(10).max(600_000).default(2_000),
    ILDFLOW_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Review claim lease (docs/design.md §4: default 30 min, renewable). */
    ILDFLOW_CLAIM_LEASE_MINUTES: z.coerce.number().positive().max(24 * 60).default(30),
    /**
     * The review viewer's in-process cache of decoded slices and series indexes, in bytes (shared/viewer/
     * byte-lru.ts): 256 MiB holds about 340 slices of 512² with their label maps.
     */
    ILDFLOW_VIEWER_CACHE_BYTES: z.coerce.number().int().min(0).max(16 * 1024 ** 3).default(256 * 1024 ** 2),
    /** Bounded wait for a study that is not in the PACS yet (docs/design.md §4 awaiting_study). */
    ILDFLOW_AWAIT_STUDY_HOURS: z.coerce.number().positive().max(24 * 90).default(72),
    /** Bound on one engine analysis, polling included (issue #4); past it the engine is aborted or killed
     *  and the attempt fails as retryable. 600 s covers a 600-slice study on a busy external engine. */
    ILDFLOW_ENGINE_TIMEOUT_SECONDS: z.coerce.number().positive().max(24 * 3600).default(600),
    /** Threads of one reference-engine analysis (issue #10); 0 = every core the process may use. With
     *  ILDFLOW_ANALYZE_CONCURRENCY above 1, set it to cores ÷ concurrency. Results never depend on it. */
    ILDFLOW_ENGINE_THREADS: z.coerce.number().int().min(0).max(64).default(0),
    ILDFLOW_ANALYZE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
    ILDFLOW_RETRIEVE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    /** Request body limit of the API, in bytes. */
    ILDFLOW_BODY_LIMIT: z.coerce.number().int().min(1024).max(10_000_000).default(256 * 1024),
    /**
     * BullMQ job lock: a job whose worker died (SIGKILL, lost machine) is handed to another worker once
     * its lock runs out; the lock is renewed every lock/2 while the job runs (the engine works on its own
     * thread, so renewals never starve).
     */
    ILDFLOW_JOB_LOCK_SECONDS: z.coerce.number().int().min(2).max(3600).default(60),
    /**
     * The reconciler (workers/reconcile, docs/operations.md): how often it re-creates the jobs that cases'
     * statuses call for and that are missing (a crash between a change and its enqueue, a lost queue), and
     * how many cases one run reads at most (round-robin over runs, so a backlog is covered over several).
     */
    ILDFLOW_RECONCILE_INTERVAL_SECONDS: z.coerce.number().positive().max(3600).default(30),
    ILDFLOW_RECONCILE_BATCH: z.coerce.number().int().min(10).max(100_000).default(500),
    /** On SIGTERM, running jobs may finish for this long; then they are cancelled and retried elsewhere. */
    ILDFLOW_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(3600).default(30),
    /** Bad presentations of one bearer token from one client address per minute before that token gets 429
     *  (docs/design.md §6; valid tokens and the health checks are never throttled: services/api/auth-throttle.ts). */
    ILDFLOW_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(60),
    /** When set, /metrics needs this bearer token (docs/design.md §5: metrics may be restricted). */
    ILDFLOW_METRICS_TOKEN: z.string().min(16).optional(),
    /**
     * A worker-only process (no API) serves GET /metrics on this port (ILDFLOW_HOST) so its stage durations
     * and failures can be scraped (docs/operations.md); unset: no metrics listener in worker-only processes.
     */
    ILDFLOW_METRICS_PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).optional(),
  });

export type Config = Readonly<
  Omit<z.infer<typeof Env>, 'ILDFLOW_DATA_DIR'> & {
    ILDFLOW_DATA_DIR: string;
    pacsRequired: boolean;
    /** The texts of ILDFLOW_AUDIT_SYSLOG_CA_FILE, _CERT_FILE and _KEY_FILE, read with the rest of the configuration. */
    auditSyslogTls: Readonly<{ ca?: string; cert?: string; key?: string }>;
    /** The payer advisory table: ILDFLOW_PAYER_ADVISORIES_FILE when set, else docs/design.md's defaults. */
    payerAdvisories: PayerAdvisoryTable;
  }
>;

export type LoadConfigOptions = { pacsRequired?: boolean };

/** Parses the environment once. Throws ConfigInvalid listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: LoadConfigOptions = {}): Config {
  const pacsRequired = opts.pacsRequired ?? true;
  const vars = stripEmpty(env);
  const r = Env.safeParse(vars);
  const problems = r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
  // Cross-variable rules are checked here, not in a zod refinement, so they are listed even when
  // another variable is also wrong.
  if (pacsRequired && !vars.ILDFLOW_PACS) problems.push('ILDFLOW_PACS: required (the image source URL)');
  if (vars.ILDFLOW_OIDC_CLIENT_ID && !vars.ILDFLOW_OIDC_ISSUER) problems.push('ILDFLOW_OIDC_ISSUER: required when ILDFLOW_OIDC_CLIENT_ID is set');
  if (vars.ILDFLOW_BILLING_WEBHOOK_URL && !vars.ILDFLOW_BILLING_WEBHOOK_SECRET)
    problems.push('ILDFLOW_BILLING_WEBHOOK_SECRET: required when ILDFLOW_BILLING_WEBHOOK_URL is set');
  const auditSyslogTls = readSyslogTls(vars, problems);
  let payerAdvisories = DEFAULT_PAYER_ADVISORIES;
  if (vars.ILDFLOW_PAYER_ADVISORIES_FILE) {
    const table = readAdvisoryTable(vars.ILDFLOW_PAYER_ADVISORIES_FILE);
    if (table.ok) payerAdvisories = table.table;
    else problems.push(...table.problems.map((p) => `ILDFLOW_PAYER_ADVISORIES_FILE: ${p}`));
  }
  if (!r.success || problems.length) throw new ConfigInvalid(problems);
  return Object.freeze({
    ...r.data,
    ILDFLOW_DATA_DIR: path.resolve(r.data.ILDFLOW_DATA_DIR),
    pacsRequired,
    payerAdvisories,
    auditSyslogTls,
  });
}

/** What the offline tools (`ildflow audit verify`) need: where the data and Redis are, nothing else required. */
export type StorageConfig = Readonly<Pick<Config, 'REDIS_URL' | 'ILDFLOW_REDIS_PREFIX' | 'ILDFLOW_DATA_DIR'>>;

export function loadStorageConfig(env: NodeJS.ProcessEnv = process.env): StorageConfig {
  const r = Env.pick({ REDIS_URL: true, ILDFLOW_REDIS_PREFIX: true, ILDFLOW_DATA_DIR: true }).safeParse(stripEmpty(env));
  if (!r.success) throw new ConfigInvalid(r.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  return Object.freeze({ ...r.data, ILDFLOW_DATA_DIR: path.resolve(r.data.ILDFLOW_DATA_DIR) });
}

/** The advisory table file is read with the rest of the configuration, so its problems are listed with them. */
function readAdvisoryTable(file: string): { ok: true; table: PayerAdvisoryTable } | { ok: false; problems: string[] } {
  const r = readText(file);
  return r.ok ? parsePayerAdvisoryTable(r.text) : { ok: false, problems: [r.problem] };
}

/**
 * The PEM files of a tls:// ILDFLOW_AUDIT_SYSLOG: the CA to trust, and the client certificate and key to
 * present. Each problem is added to `problems`.
 */
function readSyslogTls(vars: Record<string, string>, problems: string[]): { ca?: string; cert?: string; key?: string } {
  const files = { ca: 'ILDFLOW_AUDIT_SYSLOG_CA_FILE', cert: 'ILDFLOW_AUDIT_SYSLOG_CERT_FILE', key: 'ILDFLOW_AUDIT_SYSLOG_KEY_FILE' } as const;
  const pem = { ca: 'CERTIFICATE', cert: 'CERTIFICATE', key: 'PRIVATE KEY' } as const;
  const out: { ca?: string; cert?: string; key?: string } = {};
  if (Boolean(vars[files.cert]) !== Boolean(vars[files.key])) problems.push(`${files.cert}, ${files.key}: set both or neither`);
  for (const [part, name] of Object.entries(files) as [keyof typeof files, string][]) {
    const file = vars[name];
    if (!file) continue;
    if (!vars.ILDFLOW_AUDIT_SYSLOG?.startsWith('tls://')) problems.push(`${name}: only for a tls:// ILDFLOW_AUDIT_SYSLOG`);
    const r = readText(file);
    if (!r.ok) problems.push(`${name}: ${r.problem}`);
    else if (!r.text.includes(`-----BEGIN `) || !r.text.includes(`${pem[part]}-----`)) problems.push(`${name}: ${file} holds no PEM ${pem[part].toLowerCase()}`);
    else out[part] = r.text;
  }
  return out;
}

/** A file named by a variable, read with the rest of the configuration so its problem is listed with them. */
function readText(file: string): { ok: true; text: string } | { ok: false; problem: string } {
  try {
    return { ok: true, text: readFileSync(file, 'utf8') };
  } catch (err) {
    return { ok: false, problem: `cannot read ${file}: ${(err as Error).message}` };
  }
}

/** An exported-but-empty variable means "not set", as shells and compose files produce them. */
function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
