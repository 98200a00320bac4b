/** What the API needs, and nothing more (docs/style.md §6): main.ts builds it; tests pass a real Redis store. */
import type { Registry } from 'prom-client';
import type { ProviderTokens } from '../../shared/auth/provider-tokens.js';
import type { UserDirectory } from '../../shared/auth/users.js';
import type { advisoriesFor } from '../../shared/billing/payer-advisories.js';
import type { ChargeEvent } from '../../shared/billing/charge-event.js';
import type { Config } from '../../shared/config.js';
import type { DiskState } from '../../shared/artifacts/disk-space.js';
import type { Logger } from '../../shared/logger.js';
import type { Pipeline } from '../../shared/queues.js';
import type { CaseStore } from '../../shared/store/case-store.js';

export type ApiDeps = Readonly<{
  config: Pick<
    Config,
    'ILDFLOW_BODY_LIMIT' | 'ILDFLOW_CLAIM_LEASE_MINUTES' | 'ILDFLOW_DATA_DIR' | 'ILDFLOW_METRICS_TOKEN' | 'ILDFLOW_AUTH_FAILURES_PER_MINUTE' | 'ILDFLOW_TRUST_PROXY'
  > &
    Partial<Pick<Config, 'ILDFLOW_COOKIE_SECURE' | 'ILDFLOW_VIEWER_CACHE_BYTES'>>;
  store: CaseStore;
  users: UserDirectory;
  /** The OpenID Provider's access-token checker (ILDFLOW_OIDC_ISSUER); absent: users-file tokens only. */
  providerTokens?: ProviderTokens;
  /** The review page signs in at this provider as this public client (ILDFLOW_OIDC_CLIENT_ID); absent: token sign-in only. */
  reviewSignIn?: Readonly<{ issuer: string; clientId: string }>;
  /** `depths` feeds the queue gauge on each /metrics scrape; `queues`, when given, the admins' dashboard. */
  pipeline: Pick<Pipeline, 'enqueue' | 'enqueueNext' | 'depths'> & Partial<Pick<Pipeline, 'queues'>>;
  logger: Logger;
  metrics: Registry;
  /** Readiness: PING on the connection the API already holds. */
  pingRedis(): Promise<void>;
  /** Readiness: the image source answers (QIDO-RS, C-ECHO, the folder); /readyz reuses its outcome for a few seconds. */
  pacsReady(): Promise<void>;
  /** Readiness: the data volume against ILDFLOW_DISK_MIN_FREE (absent: not reported). */
  diskState?: () => Promise<DiskState>;
  advisoriesFor: typeof advisoriesFor;
  /**
   * The charge events of a case, for a reversal. Default: a scan of the store's billing feed for
   * `case.billing.eventIds`; a deployment with a lookup index can inject a faster one.
   */
  chargeEventsOf?: (eventIds: readonly string[]) => Promise<ChargeEvent[]>;
  clock?: () => Date;
}>;
