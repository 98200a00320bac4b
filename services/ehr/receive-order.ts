/**
 * One received HL7 order frame → what is stored → the acknowledgment bytes (docs/ehr.md). `AA` is answered
 * only after the case store has the change (Redis replied to the create's Lua step; with the compose file's
 * AOF the write is on disk within a second): an interface engine that gets no AA sends the order again,
 * and a repeated NW is a replay that changes nothing. Never throws: an unexpected error is an `AE` with
 * code 207, which the sender retries.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AckCode } from '../../shared/billing/hl7/mllp.js';
import type { Case, Coverage } from '../../shared/domain/case.js';
import { orderReplay } from '../../shared/domain/order-replay.js';
import { buildOrderAck, UNREADABLE, type AckHeader } from '../../shared/ehr/order-ack.js';
import { header, readHl7, type Hl7Message } from '../../shared/ehr/hl7-message.js';
import { readOrderMessage, type OrderProblem, type OrderSettings } from '../../shared/ehr/order-message.js';
import { TransitionRefused } from '../../shared/errors.js';
import type { Pipeline } from '../../shared/queues.js';
import { cancelCase } from '../../shared/lifecycle/index.js';
import type { CaseStore } from '../../shared/store/case-store.js';

export type ReceiveOrderDeps = Readonly<{
  store: CaseStore;
  pipeline: Pick<Pipeline, 'enqueueNext'>;
  advisoriesFor: (coverage: Coverage) => { advisories: string[] };
  settings: OrderSettings;
  logger: Logger;
  clock: () => Date;
}>;

type Outcome = Readonly<{ code: AckCode; problems: readonly OrderProblem[]; caseId?: string; what: string }>;

export async function receiveOrder(frame: Buffer, deps: ReceiveOrderDeps): Promise<Buffer> {
  const read = readHl7(frame);
  const message = read.ok ? read.message : read.message;
  let outcome: Outcome;
  if (!read.ok)
    outcome =
      read.kind === 'frame'
        ? { code: 'AR', problems: [{ code: '100', text: read.reason }], what: 'unreadable' }
        : { code: 'AR', problems: [{ location: { segment: 'MSH', sequence: 1, field: 18 }, code: '103', text: read.reason }], what: 'charset' };
  else {
    try {
      outcome = await act(read.message, deps);
    } catch (err) {
      deps.logger.error({ err: err instanceof Error ? { type: err.name, message: err.message } : String(err) }, 'hl7 order could not be processed');
      outcome = { code: 'AE', problems: [{ code: '207', text: 'ildflow could not store the order just now: send it again' }], what: 'error' };
    }
  }
  const h: AckHeader = message ? header(message) : UNREADABLE;
  // Ids and codes only: the message and the ERR texts may carry the patient's data.
  deps.logger.info(
    { controlId: h.controlId, sender: h.sendingApplication, ack: outcome.code, what: outcome.what, caseId: outcome.caseId, errors: outcome.problems.map((p) => p.code) },
    'hl7 order acknowledged',
  );
  const ack = buildOrderAck(h, outcome.code, outcome.problems, { now: deps.clock(), charsetName: message?.charsetName ?? '' });
  return Buffer.from(ack, message?.charset === 'latin1' ? 'latin1' : 'utf8');
}

async function act(m: Hl7Message, deps: ReceiveOrderDeps): Promise<Outcome> {
  const action = readOrderMessage(m, deps.settings);
  const orc2 = { segment: 'ORC', sequence: 1, field: 2 } as const;
  switch (action.kind) {
    case 'reject':
      return { code: 'AR', problems: [action.problem], what: 'unsupported' };
    case 'invalid':
      return { code: 'AE', problems: action.problems, what: 'invalid' };
    case 'new': {
      const { advisories } = deps.advisoriesFor(action.body.coverage);
      const { case: c, created } = await deps.store.create(action.body, { actor: action.source, advisories });
      if (!created) {
        // A resent NW whose only order time was its MSH-7 carries a new one: that alone is no other order.
        const body = action.orderedAtFromMessage ? { ...action.body, order: { ...action.body.order, orderedAt: c.order.orderedAt } } : action.body;
        const r = orderReplay(c, body, action.source);
        if (!r.replay)
          return {
            code: 'AE',
            problems: [{ location: orc2, code: '205', text: r.conflict === 'source' ? 'ORC-2 placer order number is already used by another ordering source' : `ORC-2 placer order number is already used by a different order (${r.differs.join(', ')} differ)` }],
            what: 'conflict',
          };
      }
      // The case is stored: a lost enqueue is re-created by the reconciler, so it does not hold back the AA.
      if (c.status === 'queued') await deps.pipeline.enqueueNext(c, randomUUID()).catch((err: Error) => deps.logger.warn({ caseId: c.id, err: err.message }, 'enqueue after an hl7 order failed; the reconciler re-creates it'));
      return { code: 'AA', problems: [], caseId: c.id, what: created ? 'created' : 'repeated' };
    }
    case 'cancel': {
      const found = await deps.store.findByOrder(action.orderId);
      if (!found || found.orderedBy !== action.source) return { code: 'AE', problems: [{ location: orc2, code: '204', text: 'ORC-2: no order with this placer order number from this sender' }], what: 'unknown-order' };
      const sender = { id: action.source, name: action.source, roles: ['orderer'] as const };
      // A queued case read here may be picked up by the retrieve stage before the cancel is written: after a
      // first refusal the case is re-read, left to settle once more, and the cancel decided again.
      let c = await settled(found, deps);
      for (let attempt = 0; ; attempt++) {
        if (c.status === 'cancelled') return { code: 'AA', problems: [], caseId: c.id, what: 'already-cancelled' };
        try {
          await deps.store.update(c.id, action.source, (cur, now) => cancelCase(cur, { ...sender, roles: [...sender.roles] }, now, 'ORC-1 CA from the EHR'));
          return { code: 'AA', problems: [], caseId: c.id, what: 'cancelled' };
        } catch (err) {
          if (!(err instanceof TransitionRefused)) throw err;
          if (attempt === 0) { c = await settled((await deps.store.find(c.id)) ?? c, deps); continue; }
          return { code: 'AE', problems: [{ location: { segment: 'ORC', sequence: 1, field: 1 }, code: '206', text: `the order can no longer be cancelled: ${err.detail}` }], caseId: c.id, what: 'not-cancellable' };
        }
      }
    }
  }
}

/** How long a CA waits for the retrieve stage to settle the case (found nothing yet: awaiting_study). */
export const CANCEL_SETTLE_MS = 10_000;

/**
 * A CA that arrives while the retrieve stage is looking for the study (seconds, when the study is not in the
 * PACS yet) waits, bounded, for the stage to settle, instead of refusing an order that is about to wait:
 * the lifecycle cancels a waiting case, never one mid-stage.
 */
async function settled(c: Case, deps: ReceiveOrderDeps): Promise<Case> {
  const deadline = Date.now() + CANCEL_SETTLE_MS;
  let cur = c;
  while (cur.status === 'retrieving' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    cur = (await deps.store.find(c.id)) ?? cur;
  }
  return cur;
}
