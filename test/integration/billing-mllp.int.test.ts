/**
 * The HL7 output end to end against a real MLLP listener (a Node net server): AA, AE, AR, a dropped
 * connection and a silent one; dead letters seen and replayed through the admin API.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageControlId } from '../../shared/billing/hl7/dft-p03.js';
import { createLogger } from '../../shared/logger.js';
import { startDeliveryLoop, type DeliveryLoop } from '../../workers/billing/delivery-loop.js';
import { createMllpOutput } from '../../workers/billing/mllp-output.js';
import { startApi, type Harness } from '../helpers/api-harness.js';
import { startMllpListener, type MllpListener } from '../helpers/mllp-listener.js';

type Hl7Message = { transform(): void; get(field: string): unknown };
const HL7 = createRequire(import.meta.url)('hl7-standard') as new (raw: string) => Hl7Message;

type Settled = { eventId: string; result: 'delivered' | 'dead-lettered'; attempts: number };

describe('HL7 DFT^P03 over MLLP', () => {
  let h: Harness;
  let peer: MllpListener;
  let loop: DeliveryLoop;
  const settled: Settled[] = [];
  const waiters = new Map<string, (s: Settled) => void>();

  function settledOf(eventId: string, timeoutMs = 15_000): Promise<Settled> {
    const done = settled.find((s) => s.eventId === eventId);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`event ${eventId} not settled in ${timeoutMs} ms`)), timeoutMs);
      waiters.set(eventId, (s) => (clearTimeout(t), resolve(s)));
    });
  }

  async function billedEvent(): Promise<{ caseId: string; eventId: string }> {
    const c = await h.seedCase('billed');
    return { caseId: c.id, eventId: c.billing!.eventIds[0]! };
  }

  beforeAll(async () => {
    h = await startApi();
    peer = await startMllpListener();
    loop = startDeliveryLoop({
      output: createMllpOutput({
        url: peer.url,
        connectTimeoutMs: 1000,
        ackTimeoutMs: 400,
        message: { sendingFacility: 'RADIOLOGY', receivingApplication: 'EPIC', receivingFacility: 'HOSP' },
        clock: () => new Date(),
      }),
      store: h.store.delivery,
      logger: createLogger({ level: 'silent' }),
      policy: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
      lockTtlMs: 2000,
      pollMs: 20,
      onSettled: (s) => {
        settled.push(s);
        waiters.get(s.eventId)?.(s);
      },
    });
  });
  afterAll(async () => {
    await loop.stop();
    await peer.close();
    await h.close();
  });

  it('delivers a charge on AA; the message parses with hl7-standard and FT1-25 reads 0877T', async () => {
    peer.script(['AA']);
    const before = peer.received.length;
    const { eventId } = await billedEvent();
    expect(await settledOf(eventId)).toMatchObject({ result: 'delivered', attempts: 1 });
    const sent = peer.received.slice(before);
    expect(sent).toHaveLength(1);
    const m = new HL7(sent[0]!.message);
    m.transform();
    expect(m.get('FT1.25.1')).toBe('0877T');
    expect(m.get('FT1.25.3')).toBe('C4');
    expect(m.get('FT1.6')).toBe('CG');
    expect(m.get('FT1.2')).toBe(eventId);
    expect(m.get('MSH.10')).toBe(messageControlId(eventId));
    const [stored] = (await h.store.billingEvents(undefined, 1000)).filter((e) => e.eventId === eventId);
    expect(await h.store.delivery.cursor('mllp')).toBe(stored?.cursor);
  });

  it.each([
    ['AE (application error)', 'AE'],
    ['a dropped connection', 'drop'],
    ['a silent connection (no ACK within the timeout)', 'silent'],
  ] as const)('retries after %s with the same message, then delivers on AA', async (_name, first) => {
    peer.script([first, 'AA']);
    const before = peer.received.length;
    const { eventId } = await billedEvent();
    expect(await settledOf(eventId)).toMatchObject({ result: 'delivered', attempts: 2 });
    const sent = peer.received.slice(before);
    expect(sent.map((r) => r.action)).toEqual([first, 'AA']);
    expect(new Set(sent.map((r) => r.controlId))).toEqual(new Set([messageControlId(eventId)]));
    expect(await h.store.delivery.listDeadLetters(0, 100).then((d) => d.items.map((i) => i.eventId))).not.toContain(eventId);
  });

  it('dead-letters after the retries run out (AE every time), and moves on to the next event', async () => {
    peer.script(['AE', 'AE', 'AE', 'AA']);
    const first = await billedEvent();
    const second = await billedEvent();
    expect(await settledOf(first.eventId)).toMatchObject({ result: 'dead-lettered', attempts: 3 });
    expect(await settledOf(second.eventId)).toMatchObject({ result: 'delivered' });
    const dl = await h.store.delivery.getDeadLetter(`mllp-${first.eventId}`);
    expect(dl).toMatchObject({ output: 'mllp', caseId: first.caseId, status: 'dead', attempts: 3, reason: expect.stringMatching(/gave up after 3 attempts: AE/) });
  });

  it('dead-letters on AR at once; an admin sees it and replays it, and it is delivered with the same event id', async () => {
    peer.script(['AR']);
    const before = peer.received.length;
    const { eventId, caseId } = await billedEvent();
    expect(await settledOf(eventId)).toMatchObject({ result: 'dead-lettered', attempts: 1 });
    const id = `mllp-${eventId}`;

    expect((await h.call('GET', '/v1/admin/dead-letters', { as: 'billing' })).status).toBe(403);
    const list = await h.call('GET', '/v1/admin/dead-letters?limit=100', { as: 'admin' });
    expect(list.status).toBe(200);
    const entry = list.json.items.find((i: { id: string }) => i.id === id);
    expect(entry).toMatchObject({ eventId, caseId, output: 'mllp', kind: 'charge', codes: ['0877T'], reason: expect.stringMatching(/^rejected: AR/) });
    expect(JSON.stringify(list.json)).not.toMatch(/DOE|MRN-/); // no patient data in the list

    expect((await h.call('POST', '/v1/admin/dead-letters/mllp-nope/replay', { as: 'admin' })).status).toBe(404);
    settled.splice(0, settled.length);
    peer.script(['AA']);
    const replay = await h.call('POST', `/v1/admin/dead-letters/${id}/replay`, { as: 'admin' });
    expect(replay.status).toBe(202);
    expect(await settledOf(eventId)).toMatchObject({ result: 'delivered' });
    const sent = peer.received.slice(before);
    expect(sent.map((r) => r.action)).toEqual(['AR', 'AA']);
    expect(sent[0]!.controlId).toBe(sent[1]!.controlId);
    expect(await h.store.delivery.getDeadLetter(id)).toBeUndefined();
    expect(await h.store.auditTrail()).toContainEqual(expect.objectContaining({ action: 'billing.dead-letter.replay', userId: 'u-admin', detail: id }));
  });

  it('sends a reversal (FT1-6 CD) after an addendum that rejects a billed case', async () => {
    peer.script([], 'AA');
    const { caseId } = await billedEvent();
    const before = peer.received.length;
    const add = await h.call('POST', `/v1/cases/${caseId}/addendum`, { as: 'radiologist', body: { text: 'Wrong series: the CT is of another patient.', decision: 'reject', attestation: true } });
    expect(add.status).toBe(200);
    const revId = add.json.billing.reversalEventIds[0] as string;
    expect(await settledOf(revId)).toMatchObject({ result: 'delivered' });
    const m = new HL7(peer.received.slice(before).at(-1)!.message);
    m.transform();
    expect(m.get('FT1.6')).toBe('CD');
    expect(m.get('FT1.25.1')).toBe('0877T');
    expect(m.get('FT1.2')).toBe(revId);
  });
});
