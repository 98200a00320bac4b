/**
 * The EHR results output: each signed result as an ORU^R01 over MLLP to ILDFLOW_RESULTS_MLLP (docs/ehr.md),
 * delivered from the results outbox by the same loop as the billing outputs (workers/billing/delivery-loop.ts):
 * in order, the ACK awaited, AE or silence retried with backoff, AR dead-lettered (an admin replays it from
 * /v1/admin/dead-letters). The PDF is read from the artifact store and must be the one the event names
 * (SHA-256): a report rewritten since is not sent under the old version's control id.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../../shared/config.js';
import { DEFAULT_RETRY_POLICY, type DeliveryOutcome } from '../../shared/billing/delivery-policy.js';
import { buildOruR01, oruControlId, type OruOptions } from '../../shared/ehr/oru-r01.js';
import { ResultEvent } from '../../shared/ehr/result-event.js';
import type { Redis } from '../../shared/redis.js';
import { createDeliveryStore } from '../../shared/store/delivery-store.js';
import { startDeliveryLoop, type DeliveryLoop, type DeliveryOutput, type OutboxKind } from '../billing/delivery-loop.js';
import { parseMllpUrl } from '../billing/mllp-client.js';
import { deliverOverMllp } from '../billing/mllp-output.js';

export const RESULT_EVENTS: OutboxKind<ResultEvent> = {
  schema: ResultEvent,
  what: 'result event',
  summary: (e) => ({ caseId: e.caseId, kind: `result-${e.resultStatus}`, codes: ['0877T'] }),
};

export type ResultsOutputOptions = Readonly<{
  url: string;
  connectTimeoutMs: number;
  ackTimeoutMs: number;
  message: Omit<OruOptions, 'now'>;
  /** The bytes of a case's artifact (the artifact store's file). */
  readArtifact(caseId: string, name: string): Promise<Buffer>;
  clock: () => Date;
}>;

export function createResultsOutput(opts: ResultsOutputOptions): DeliveryOutput<ResultEvent> {
  const target = parseMllpUrl(opts.url);
  return {
    name: 'results-mllp',
    async deliver(event, signal): Promise<DeliveryOutcome> {
      let pdf: Buffer;
      try {
        pdf = await opts.readArtifact(event.caseId, event.pdf.artifact);
      } catch (err) {
        return { kind: 'retry', reason: `the report PDF cannot be read: ${(err as Error).message}` };
      }
      if (createHash('sha256').update(pdf).digest('hex') !== event.pdf.sha256)
        return { kind: 'reject', reason: 'the report PDF is no longer the one this result version was signed with' };
      const message = buildOruR01(event, pdf, { ...opts.message, now: opts.clock() });
      return deliverOverMllp(target, message, oruControlId(event), opts, signal);
    },
  };
}

export type ResultsDeliveryConfig = Pick<
  Config,
  | 'ILDFLOW_REDIS_PREFIX'
  | 'ILDFLOW_DATA_DIR'
  | 'ILDFLOW_RESULTS_MLLP'
  | 'ILDFLOW_HL7_SENDING_FACILITY'
  | 'ILDFLOW_RESULTS_RECEIVING_APPLICATION'
  | 'ILDFLOW_RESULTS_RECEIVING_FACILITY'
  | 'ILDFLOW_HL7_ACK_TIMEOUT_MS'
  | 'ILDFLOW_BILLING_MAX_ATTEMPTS'
  | 'ILDFLOW_BILLING_RETRY_BASE_MS'
>;

/** Starts the results delivery loop (worker role, beside the report stage); one process delivers at a time. */
export function startResultsDelivery(
  deps: Readonly<{ config: ResultsDeliveryConfig; redis: Redis; logger: Logger; readArtifact: ResultsOutputOptions['readArtifact']; clock?: () => Date }>,
  tuning: Partial<Readonly<{ lockTtlMs: number; pollMs: number; connectTimeoutMs: number; maxDelayMs: number }>> = {},
): DeliveryLoop {
  const clock = deps.clock ?? (() => new Date());
  const output = createResultsOutput({
    url: deps.config.ILDFLOW_RESULTS_MLLP!,
    connectTimeoutMs: tuning.connectTimeoutMs ?? 10_000,
    ackTimeoutMs: deps.config.ILDFLOW_HL7_ACK_TIMEOUT_MS,
    message: {
      sendingFacility: deps.config.ILDFLOW_HL7_SENDING_FACILITY,
      receivingApplication: deps.config.ILDFLOW_RESULTS_RECEIVING_APPLICATION,
      receivingFacility: deps.config.ILDFLOW_RESULTS_RECEIVING_FACILITY,
    },
    readArtifact: deps.readArtifact,
    clock,
  });
  return startDeliveryLoop({
    output,
    kind: RESULT_EVENTS,
    store: createDeliveryStore(deps.redis, deps.config.ILDFLOW_REDIS_PREFIX, 'results'),
    logger: deps.logger.child({ component: 'results-delivery' }),
    policy: { maxAttempts: deps.config.ILDFLOW_BILLING_MAX_ATTEMPTS, baseDelayMs: deps.config.ILDFLOW_BILLING_RETRY_BASE_MS, maxDelayMs: tuning.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs },
    lockTtlMs: tuning.lockTtlMs ?? 30_000,
    pollMs: tuning.pollMs ?? 1_000,
    clock,
  });
}
