/**
 * HL7 v2 orders over MLLP (issue 14, docs/ehr.md) into the running service (API and workers in one process,
 * real Redis), from real TCP peers: NW → AA and one case, stored before the AA; the same NW → AA, still one
 * case; no PID-3 → AE naming PID-3; an unsupported type → AR; CA → cancelled; several connections and
 * pipelined messages answered in order; garbage, an oversized frame and a client gone mid-message leave the
 * listener serving. The ACKs are read with hl7-standard, an independent parser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, TOKENS, type Harness } from '../helpers/pipeline-harness.js';
import { connectMllp, ormMessage } from '../helpers/hl7-orders.js';
import { parseIndependently as parse } from '../helpers/hl7-standard.js';

const RUN = process.pid;
const MAX_BYTES = 65_536;

describe('HL7 order listener (MLLP, real sockets)', () => {
  let h: Harness;
  let url: string;
  const casesOfOrder = async (orderId: string) => (await h.runtime.store.list({ limit: 500 })).items.filter((c) => c.order.id === orderId);

  beforeAll(async () => {
    h = await startHarness({ ILDFLOW_HL7_LISTEN: 'mllp://127.0.0.1:0', ILDFLOW_HL7_MAX_MESSAGE_BYTES: String(MAX_BYTES) });
    url = h.runtime.hl7OrdersUrl!;
  });
  afterAll(async () => h?.close());

  it('creates one case for an ORM NW and answers AA only once the case is stored; the same NW again is AA and changes nothing', async () => {
    const orderId = `ORD-HL7-${RUN}`;
    const c = await connectMllp(url);
    c.send(ormMessage({ orderId, controlId: 'CTL-1', pid3: `MRN-HL7-${RUN}^^^HOSP^MR` }));
    const ack = parse(await c.nextAck());
    // Read the store the moment the AA arrives: the case must already be there.
    const [stored] = await casesOfOrder(orderId);
    expect(ack.get('MSA.1')).toBe('AA');
    expect(ack.get('MSA.2')).toBe('CTL-1');
    expect(ack.get('MSH.9')).toMatchObject({ 'MSH.9.1': 'ACK', 'MSH.9.2': 'O01' });
    expect(stored).toMatchObject({ orderedBy: 'hl7:EPIC', patient: { id: `MRN-HL7-${RUN}`, name: 'DOE^JANE^Q', birthDate: '1961-04-02' }, order: { indications: ['J84.10', 'R06.00'] }, coverage: { payer: 'medicare' } });

    c.send(ormMessage({ orderId, controlId: 'CTL-2', pid3: `MRN-HL7-${RUN}^^^HOSP^MR` }));
    const again = parse(await c.nextAck());
    expect(again.get('MSA.1')).toBe('AA');
    expect(again.get('MSA.2')).toBe('CTL-2');
    const after = await casesOfOrder(orderId);
    expect(after).toHaveLength(1);
    expect(after[0]!.id).toBe(stored!.id);
    expect((await h.runtime.store.timeline(stored!.id))[0]).toMatchObject({ to: 'queued', actor: 'hl7:EPIC' });
    // The REST view of the same case, as an admin reads it.
    expect((await h.call('GET', `/v1/cases/${stored!.id}`, TOKENS.admin)).body.order.id).toBe(orderId);
    c.end();
  });

  it('answers AE with an ERR naming PID-3 for an order without it, and creates nothing', async () => {
    const c = await connectMllp(url);
    c.send(ormMessage({ orderId: `ORD-NOPID-${RUN}`, pid3: '' }));
    const text = await c.nextAck();
    const ack = parse(text);
    expect(ack.get('MSA.1')).toBe('AE');
    expect(ack.get('ERR.2')).toMatchObject({ 'ERR.2.1': 'PID', 'ERR.2.2': '1', 'ERR.2.3': '3' });
    expect(ack.get('ERR.3')).toMatchObject({ 'ERR.3.1': '101', 'ERR.3.3': 'HL70357' });
    expect(String(ack.get('ERR.8'))).toMatch(/PID-3/);
    expect(await casesOfOrder(`ORD-NOPID-${RUN}`)).toHaveLength(0);
    c.end();
  });

  it('answers AR for a message type ildflow does not take', async () => {
    const c = await connectMllp(url);
    c.send(ormMessage({ orderId: `ORD-ADT-${RUN}` }).replace('ORM^O01^ORM_O01', 'ADT^A08^ADT_A01'));
    const ack = parse(await c.nextAck());
    expect(ack.get('MSA.1')).toBe('AR');
    expect(ack.get('ERR.3')).toMatchObject({ 'ERR.3.1': '200' });
    c.end();
  });

  it('cancels the case on ORC-1 CA, and answers AE for a CA of an order it does not know', async () => {
    const orderId = `ORD-CA-${RUN}`;
    const c = await connectMllp(url);
    c.send(ormMessage({ orderId, controlId: 'NW-CA' }));
    expect(parse(await c.nextAck()).get('MSA.1')).toBe('AA');
    // Sent at once: the retrieve stage may still be looking (the folder PACS has no study for it); the CA
    // waits for it to settle in awaiting_study, then cancels.
    c.send(ormMessage({ orderId, controlId: 'CA-1', control: 'CA' }));
    expect(parse(await c.nextAck()).get('MSA.1')).toBe('AA');
    const [cancelled] = await casesOfOrder(orderId);
    expect(cancelled!.status).toBe('cancelled');
    c.send(ormMessage({ orderId: `ORD-NEVER-${RUN}`, control: 'CA' }));
    const unknown = parse(await c.nextAck());
    expect(unknown.get('MSA.1')).toBe('AE');
    expect(unknown.get('ERR.3')).toMatchObject({ 'ERR.3.1': '204' });
    c.end();
  });

  it('answers several connections, each pipelining messages, in order', async () => {
    const conns = await Promise.all([0, 1, 2, 3, 4].map(() => connectMllp(url)));
    conns.forEach((c, i) => {
      for (let j = 0; j < 3; j++) c.send(ormMessage({ orderId: `ORD-PIPE-${RUN}-${i}-${j}`, controlId: `P${i}-${j}` }));
    });
    for (const [i, c] of conns.entries())
      for (let j = 0; j < 3; j++) {
        const ack = parse(await c.nextAck());
        expect([ack.get('MSA.1'), ack.get('MSA.2')]).toEqual(['AA', `P${i}-${j}`]);
      }
    for (const c of conns) c.end();
    const all = (await h.runtime.store.list({ limit: 500 })).items.filter((c) => c.order.id.startsWith(`ORD-PIPE-${RUN}-`));
    expect(all).toHaveLength(15);
  });

  it('reads MSH-18 8859/1 and answers in it', async () => {
    const orderId = `ORD-LATIN-${RUN}`;
    const c = await connectMllp(url, { latin1: true });
    c.send(Buffer.from(ormMessage({ orderId, name: 'MÜLLER^JOSÉ', charset: '8859/1' }), 'latin1'));
    const ack = parse(await c.nextAck());
    expect(ack.get('MSA.1')).toBe('AA');
    expect(ack.get('MSH.18')).toBe('8859/1');
    expect((await casesOfOrder(orderId))[0]!.patient.name).toBe('MÜLLER^JOSÉ');
    c.end();
  });

  it('keeps serving after garbage, an oversized frame and a client that leaves mid-message', async () => {
    // Binary garbage outside a frame is dropped; inside a frame it gets a NAK (AR, no MSH to echo).
    const g = await connectMllp(url);
    g.raw(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37 + 11) % 256).filter((b) => b !== 0x0b)));
    g.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x7f]));
    const nak = parse(await g.nextAck());
    expect(nak.get('MSA.1')).toBe('AR');
    expect(String(nak.get('ERR.8'))).toMatch(/not an HL7 message/);
    g.send(ormMessage({ orderId: `ORD-AFTER-GARBAGE-${RUN}`, controlId: 'AG' }));
    expect(parse(await g.nextAck()).get('MSA.2')).toBe('AG');
    g.end();

    // A frame past ILDFLOW_HL7_MAX_MESSAGE_BYTES: the connection is closed, nothing is stored.
    const big = await connectMllp(url);
    big.raw(Buffer.concat([Buffer.from([0x0b]), Buffer.from(ormMessage({ orderId: `ORD-BIG-${RUN}` })), Buffer.alloc(MAX_BYTES + 10, 0x41)]));
    expect(await big.closed()).toBe(true);

    // A client that disconnects mid-message: no case, no half of one.
    const half = await connectMllp(url);
    const frame = Buffer.from(`\x0b${ormMessage({ orderId: `ORD-HALF-${RUN}` })}\x1c\r`);
    half.raw(frame.subarray(0, Math.floor(frame.length / 2)));
    await new Promise((r) => setTimeout(r, 100));
    half.end();
    await new Promise((r) => setTimeout(r, 200));
    expect(await casesOfOrder(`ORD-HALF-${RUN}`)).toHaveLength(0);
    expect(await casesOfOrder(`ORD-BIG-${RUN}`)).toHaveLength(0);

    const ok = await connectMllp(url);
    ok.send(ormMessage({ orderId: `ORD-STILL-${RUN}`, controlId: 'STILL' }));
    expect(parse(await ok.nextAck()).get('MSA.1')).toBe('AA');
    ok.end();
    expect((await h.call('GET', '/healthz', null)).status).toBe(200);
  });

  it('writes no patient data to the logs', () => {
    const logs = h.logs();
    expect(logs).toMatch(/hl7 order acknowledged/);
    for (const v of [`MRN-HL7-${RUN}`, 'DOE^JANE', 'MÜLLER', '19610402', '1961-04-02', '1EG4TE5MK73']) expect(logs, v).not.toContain(v);
  });
});
