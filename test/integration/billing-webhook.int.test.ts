/**
 * The signed webhook against a real local HTTP receiver that verifies signatures with the recipe of
 * docs/billing.md, written here from the docs (not with ildflow's own verifier), and validates the FHIR
 * ChargeItems it receives with the R4 runtime types.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { R4 } from '@ahryman40k/ts-fhir-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.js';
import { startDeliveryLoop, type DeliveryLoop } from '../../workers/billing/delivery-loop.js';
import { createWebhookOutput } from '../../workers/billing/webhook-output.js';
import { startApi, type Harness } from '../helpers/api-harness.js';

const SECRET = 'whsec-test-0123456789abcdef';

/** docs/billing.md, "Verifying the webhook signature", step by step. */
function verify(headers: IncomingHttpHeaders, rawBody: string, secret: string): boolean {
  const header = String(headers['x-ildflow-signature'] ?? '');
  const items = Object.fromEntries(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(items.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(items.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

type Hit = { status: number; verified: boolean; body: any; headers: IncomingHttpHeaders };

describe('signed billing webhook', () => {
  let h: Harness;
  let server: Server;
  let loop: DeliveryLoop;
  let script: (number | 'hang')[] = [];
  const hits: Hit[] = [];
  const settled = new Map<string, string>();

  beforeAll(async () => {
    h = await startApi();
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const verified = verify(req.headers, raw, SECRET);
        const planned = script.shift() ?? 200;
        if (planned === 'hang') {
          hits.push({ status: 0, verified, body: JSON.parse(raw), headers: req.headers });
          return; // never answers: the sender's timeout must fire
        }
        const status = verified ? planned : 401;
        hits.push({ status, verified, body: JSON.parse(raw), headers: req.headers });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
      });
    });
    server.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/billing`;
    loop = startDeliveryLoop({
      output: createWebhookOutput({ url, secret: SECRET, timeoutMs: 400, clock: () => new Date() }),
      store: h.store.delivery,
      logger: createLogger({ level: 'silent' }),
      policy: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
      lockTtlMs: 2000,
      pollMs: 20,
      onSettled: (s) => settled.set(s.eventId, s.result),
    });
  });
  afterAll(async () => {
    await loop.stop();
    server.closeAllConnections();
    server.close();
    await h.close();
  });

  async function until(check: () => boolean, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('POSTs the event and its FHIR ChargeItem, signed so that the documented recipe verifies it', async () => {
    script = [200];
    const c = await h.seedCase('billed');
    const eventId = c.billing!.eventIds[0]!;
    await until(() => settled.has(eventId));
    const hit = hits.find((x) => x.body.id === eventId)!;
    expect(hit).toMatchObject({ status: 200, verified: true });
    expect(hit.headers['x-ildflow-event-id']).toBe(eventId);
    expect(hit.body).toMatchObject({ schema: 'ildflow.billing-webhook/1', type: 'charge.created', event: { eventId, lines: [{ code: '0877T' }] } });
    const [item] = hit.body.chargeItems;
    expect(R4.RTTI_ChargeItem.decode(item)._tag).toBe('Right');
    expect(item).toMatchObject({ resourceType: 'ChargeItem', status: 'billable', code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '0877T' }] } });
    // A tampered body fails the same recipe.
    expect(verify(hit.headers, JSON.stringify(hit.body).replace('0877T', '0878T'), SECRET)).toBe(false);
  });

  it('retries 503 and a receiver that never answers, with the same event id, then delivers', async () => {
    script = [503, 'hang', 200];
    const c = await h.seedCase('billed');
    const eventId = c.billing!.eventIds[0]!;
    await until(() => settled.get(eventId) === 'delivered');
    const mine = hits.filter((x) => x.body.id === eventId);
    expect(mine.map((x) => x.status)).toEqual([503, 0, 200]);
    expect(mine.every((x) => x.verified)).toBe(true);
  });

  it('dead-letters an event the receiver refuses (4xx), and goes on with the next', async () => {
    script = [422, 200];
    const a = await h.seedCase('billed');
    const b = await h.seedCase('billed');
    await until(() => settled.has(b.billing!.eventIds[0]!));
    expect(settled.get(a.billing!.eventIds[0]!)).toBe('dead-lettered');
    expect(await h.store.delivery.getDeadLetter(`webhook-${a.billing!.eventIds[0]}`)).toMatchObject({ reason: expect.stringMatching(/^rejected: HTTP 422/) });
  });
});
