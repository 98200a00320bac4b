/**
 * The webhook output: each event POSTed as JSON with its FHIR R4 ChargeItem(s), signed with HMAC-SHA256
 * over `timestamp.body` (shared/billing/webhook-signature.ts; the receiver's recipe is in docs/billing.md).
 * The FHIR ChargeItem travels in this webhook rather than as its own output: a billing system that wants
 * FHIR reads `chargeItems`, one that wants the ildflow event reads `event`, and one signed delivery with
 * one cursor covers both. 2xx → delivered; 408/425/429/5xx or a network error/timeout → retried; other
 * statuses → dead-lettered.
 */
import type { ChargeEvent } from '../../shared/billing/charge-event.js';
import { httpOutcome, type DeliveryOutcome } from '../../shared/billing/delivery-policy.js';
import { buildChargeItems } from '../../shared/billing/fhir-charge-item.js';
import { SIGNATURE_HEADER, signWebhook } from '../../shared/billing/webhook-signature.js';
import type { DeliveryOutput } from './delivery-loop.js';

export const WEBHOOK_SCHEMA = 'ildflow.billing-webhook/1';

export type WebhookOutputOptions = Readonly<{ url: string; secret: string; timeoutMs: number; clock: () => Date }>;

/** The JSON body: the stable event id first, so a receiver can dedupe before reading the rest. */
export function webhookBody(event: ChargeEvent): string {
  return JSON.stringify({
    schema: WEBHOOK_SCHEMA,
    id: event.eventId,
    type: event.kind === 'charge' ? 'charge.created' : 'charge.reversed',
    createdAt: event.createdAt,
    event,
    chargeItems: buildChargeItems(event),
  });
}

export function createWebhookOutput(opts: WebhookOutputOptions): DeliveryOutput {
  return {
    name: 'webhook',
    async deliver(event: ChargeEvent, signal: AbortSignal): Promise<DeliveryOutcome> {
      const body = webhookBody(event);
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      try {
        const res = await fetch(opts.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signWebhook(opts.secret, body, opts.clock()),
            'X-Ildflow-Event-Id': event.eventId,
            'Idempotency-Key': event.eventId,
          },
          body,
          signal: AbortSignal.any([signal, timeout]),
          redirect: 'error', // a redirect would resend PHI to an address nobody configured
        });
        const text = res.ok ? '' : (await res.text().catch(() => '')).replace(/\s+/g, ' ');
        if (res.ok) await res.body?.cancel().catch(() => {});
        return httpOutcome(res.status, text);
      } catch (err) {
        return { kind: 'retry', reason: timeout.aborted ? `no answer within ${opts.timeoutMs} ms` : `request failed: ${(err as Error).message}` };
      }
    },
  };
}
