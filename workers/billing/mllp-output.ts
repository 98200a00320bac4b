/**
 * The HL7 output: each charge or reversal as a DFT^P03 over MLLP (docs/design.md §5). AA (or CA) → delivered;
 * AE/CE → retried; AR/CR → dead-lettered; a refused, dropped or silent connection → retried; an ACK for
 * another message (MSA-2 ≠ MSH-10) → retried, since this message was not acknowledged.
 */
import type { ChargeEvent } from '../../shared/billing/charge-event.js';
import type { DeliveryOutcome } from '../../shared/billing/delivery-policy.js';
import { buildDftP03, messageControlId, type DftOptions } from '../../shared/billing/hl7/dft-p03.js';
import { ackOutcome, parseAck } from '../../shared/billing/hl7/mllp.js';
import type { DeliveryOutput } from './delivery-loop.js';
import { MllpTransportError, parseMllpUrl, sendMllp, type MllpTarget } from './mllp-client.js';

export type MllpOutputOptions = Readonly<{
  url: string;
  connectTimeoutMs: number;
  ackTimeoutMs: number;
  message: Omit<DftOptions, 'now'>;
  clock: () => Date;
}>;

export function createMllpOutput(opts: MllpOutputOptions): DeliveryOutput {
  const target = parseMllpUrl(opts.url);
  return {
    name: 'mllp',
    deliver(event: ChargeEvent, signal: AbortSignal): Promise<DeliveryOutcome> {
      const message = buildDftP03(event, { ...opts.message, now: opts.clock() });
      return deliverOverMllp(target, message, messageControlId(event.eventId), opts, signal);
    },
  };
}

/**
 * Sends one message and reads its ACK into a delivery outcome: AA/CA delivered, AE/CE retry, AR/CR reject; a
 * refused, dropped or silent connection, an unreadable ACK or one for another message (MSA-2 ≠ `controlId`)
 * retry. Shared by every MLLP output (DFT^P03 to billing, ORU^R01 to the EHR).
 */
export async function deliverOverMllp(
  target: MllpTarget,
  message: string,
  controlId: string,
  opts: Readonly<{ connectTimeoutMs: number; ackTimeoutMs: number }>,
  signal: AbortSignal,
): Promise<DeliveryOutcome> {
  let raw: string;
  try {
    raw = await sendMllp(target, message, { connectTimeoutMs: opts.connectTimeoutMs, ackTimeoutMs: opts.ackTimeoutMs, signal });
  } catch (err) {
    if (err instanceof MllpTransportError) return { kind: 'retry', reason: err.message };
    throw err;
  }
  let ack;
  try {
    ack = parseAck(raw);
  } catch (err) {
    return { kind: 'retry', reason: `unreadable acknowledgment: ${(err as Error).message}` };
  }
  if (ack.controlId !== controlId) return { kind: 'retry', reason: `acknowledgment for message ${ack.controlId}, not ${controlId}` };
  const outcome = ackOutcome(ack.code);
  const text = `${ack.code}${ack.text ? `: ${ack.text}` : ''}`;
  if (outcome === 'done') return { kind: 'delivered', detail: text };
  return outcome === 'retry' ? { kind: 'retry', reason: text } : { kind: 'reject', reason: text };
}
