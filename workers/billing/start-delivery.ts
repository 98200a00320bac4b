/**
 * Composition of the billing outputs for the worker role (services/cli/runtime.ts): one delivery loop per
 * configured output — MLLP when ILDFLOW_HL7_MLLP is set, the signed webhook (with FHIR ChargeItems) when
 * ILDFLOW_BILLING_WEBHOOK_URL is set. The REST feed and the Redis stream need no loop: they are the outbox.
 * Every worker process may start them; the per-output lock lets one process deliver at a time.
 */
import type { Logger } from 'pino';
import type { Config } from '../../shared/config.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../shared/billing/delivery-policy.js';
import type { Redis } from '../../shared/redis.js';
import { createDeliveryStore } from '../../shared/store/delivery-store.js';
import { startDeliveryLoop, type DeliveryLoop, type DeliveryOutput } from './delivery-loop.js';
import { createMllpOutput } from './mllp-output.js';

export type BillingDeliveryConfig = Pick<
  Config,
  | 'ILDFLOW_REDIS_PREFIX'
  | 'ILDFLOW_HL7_MLLP'
  | 'ILDFLOW_BILLING_WEBHOOK_URL'
  | 'ILDFLOW_BILLING_WEBHOOK_SECRET'
  | 'ILDFLOW_HL7_SENDING_FACILITY'
  | 'ILDFLOW_HL7_RECEIVING_APPLICATION'
  | 'ILDFLOW_HL7_RECEIVING_FACILITY'
  | 'ILDFLOW_HL7_ACK_TIMEOUT_MS'
  | 'ILDFLOW_BILLING_WEBHOOK_TIMEOUT_MS'
  | 'ILDFLOW_BILLING_MAX_ATTEMPTS'
  | 'ILDFLOW_BILLING_RETRY_BASE_MS'
>;

export type BillingDeliveryTuning = Partial<Readonly<{ lockTtlMs: number; pollMs: number; connectTimeoutMs: number; maxDelayMs: number }>>;

export async function billingOutputs(config: BillingDeliveryConfig, clock: () => Date = () => new Date(), connectTimeoutMs = 10_000): Promise<DeliveryOutput[]> {
  const outputs: DeliveryOutput[] = [];
  if (config.ILDFLOW_HL7_MLLP)
    outputs.push(
      createMllpOutput({
        url: config.ILDFLOW_HL7_MLLP,
        connectTimeoutMs,
        ackTimeoutMs: config.ILDFLOW_HL7_ACK_TIMEOUT_MS,
        message: {
          sendingFacility: config.ILDFLOW_HL7_SENDING_FACILITY,
          receivingApplication: config.ILDFLOW_HL7_RECEIVING_APPLICATION,
          receivingFacility: config.ILDFLOW_HL7_RECEIVING_FACILITY,
        },
        clock,
      }),
    );
  if (config.ILDFLOW_BILLING_WEBHOOK_URL && config.ILDFLOW_BILLING_WEBHOOK_SECRET) {
    // Loaded only for the webhook: it brings the FHIR R4 validators (@ahryman40k/ts-fhir-types), which an
    // MLLP-only deployment does not need.
    const { createWebhookOutput } = await import('./webhook-output.js');
    outputs.push(
      createWebhookOutput({ url: config.ILDFLOW_BILLING_WEBHOOK_URL, secret: config.ILDFLOW_BILLING_WEBHOOK_SECRET, timeoutMs: config.ILDFLOW_BILLING_WEBHOOK_TIMEOUT_MS, clock }),
    );
  }
  return outputs;
}

export type BillingDelivery = Readonly<{ loops: readonly DeliveryLoop[]; close(): Promise<void> }>;

export async function startBillingDelivery(
  deps: Readonly<{ config: BillingDeliveryConfig; redis: Redis; logger: Logger; clock?: () => Date }>,
  tuning: BillingDeliveryTuning = {},
): Promise<BillingDelivery> {
  const store = createDeliveryStore(deps.redis, deps.config.ILDFLOW_REDIS_PREFIX);
  const policy: RetryPolicy = {
    maxAttempts: deps.config.ILDFLOW_BILLING_MAX_ATTEMPTS,
    baseDelayMs: deps.config.ILDFLOW_BILLING_RETRY_BASE_MS,
    maxDelayMs: tuning.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
  };
  const loops = (await billingOutputs(deps.config, deps.clock, tuning.connectTimeoutMs)).map((output) =>
    startDeliveryLoop({
      output,
      store,
      logger: deps.logger.child({ component: 'billing-delivery' }),
      policy,
      lockTtlMs: tuning.lockTtlMs ?? 30_000,
      pollMs: tuning.pollMs ?? 1_000,
      clock: deps.clock,
    }),
  );
  return {
    loops,
    async close() {
      await Promise.all(loops.map((l) => l.stop()));
    },
  };
}
