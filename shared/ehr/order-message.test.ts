import { describe, expect, it } from 'vitest';
import { ormMessage } from '../../test/helpers/hl7-orders.js';
import { buildOrderAck } from './order-ack.js';
import { header, readHl7, type Hl7Message } from './hl7-message.js';
import { hl7Timestamp, readOrderMessage, type OrderAction } from './order-message.js';
import { orderSettings } from './order-settings.js';
import { parseIndependently as independent } from '../../test/helpers/hl7-standard.js';

const settings = orderSettings({ ILDFLOW_HL7_ORDER_CODES: 'CTILD1', ILDFLOW_HL7_PAYERS: undefined });
const msg = (text: string, encoding: BufferEncoding = 'utf8'): Hl7Message => {
  const r = readHl7(Buffer.from(text, encoding));
  if (!r.ok) throw new Error(r.reason);
  return r.message;
};
const read = (text: string): OrderAction => readOrderMessage(msg(text), settings);

describe('readHl7', () => {
  it('reads the same fields as hl7-standard', () => {
    const text = ormMessage({ name: 'DOE\\S\\SMITH^JANE' });
    const m = msg(text);
    const p = independent(text);
    expect(header(m)).toMatchObject({ messageType: 'ORM', triggerEvent: 'O01', controlId: p.get('MSH.10'), sendingApplication: p.get('MSH.3') });
    expect(readOrderMessage(m, settings)).toMatchObject({ kind: 'new', body: { patient: { name: 'DOE^SMITH^JANE' } } });
  });

  it('decodes 8859/1 when MSH-18 says so, and UTF-8 otherwise', () => {
    const latin = readOrderMessage(msg(ormMessage({ name: 'MÜLLER^JOSÉ', charset: '8859/1' }), 'latin1'), settings);
    expect(latin).toMatchObject({ kind: 'new', body: { patient: { name: 'MÜLLER^JOSÉ' } } });
    const utf8 = readOrderMessage(msg(ormMessage({ name: 'ŁUKASIEWICZ^ZOË' })), settings);
    expect(utf8).toMatchObject({ kind: 'new', body: { patient: { name: 'ŁUKASIEWICZ^ZOË' } } });
  });

  it('reads undeclared non-ASCII bytes (no MSH-18) as 8859/1', () => {
    const undeclared = readOrderMessage(msg(ormMessage({ name: 'MÜLLER^JOSÉ', charset: '' }), 'latin1'), settings);
    expect(undeclared).toMatchObject({ kind: 'new', body: { patient: { name: 'MÜLLER^JOSÉ' } } });
  });

  it('refuses bytes that are not UTF-8 under UNICODE UTF-8, and an unknown MSH-18, keeping MSH for the ACK', () => {
    const bad = readHl7(Buffer.from(ormMessage({ name: 'MÜLLER^JOSÉ' }), 'latin1'));
    expect(bad).toMatchObject({ ok: false, kind: 'charset', reason: expect.stringMatching(/not valid UTF-8/) });
    const other = readHl7(Buffer.from(ormMessage({ charset: 'ISO IR87' })));
    expect(other).toMatchObject({ ok: false, kind: 'charset', reason: expect.stringMatching(/ISO IR87/) });
    expect(other.ok === false && other.message && header(other.message).controlId).toBe('MSG0001');
  });

  it('says a frame without MSH is not HL7', () => {
    expect(readHl7(Buffer.from([0xff, 0x00, 0x41, 0x42]))).toMatchObject({ ok: false, kind: 'frame' });
    expect(readHl7(Buffer.from('PID|1||X\r'))).toMatchObject({ ok: false, kind: 'frame' });
  });
});

describe('readOrderMessage', () => {
  it('maps an ORM^O01 NW to the order body POST /v1/cases takes', () => {
    expect(read(ormMessage({ priority: 'S', accession: 'A123' }))).toEqual({
      kind: 'new',
      source: 'hl7:EPIC',
      orderedAtFromMessage: false,
      body: {
        order: { id: 'ORD-1001', orderedAt: '2026-11-27T09:00:00Z', priority: 'stat', orderingProvider: { npi: '1245319599', name: 'LEE PARK, MD' }, indications: ['J84.10', 'R06.00'] },
        patient: { id: 'MRN-001', name: 'DOE^JANE^Q', birthDate: '1961-04-02', sex: 'F' },
        study: { accessionNumber: 'A123' },
        coverage: { payer: 'medicare', memberId: '1EG4TE5MK73' },
      },
    });
  });

  it('reads the named study of an OMI^O23 from IPC (accession, Study Instance UID) and a local service code', () => {
    const a = read(ormMessage({ type: 'OMI^O23', service: 'CTILD1^ILD analysis^L', accession: 'A9', studyUid: '1.2.840.99.1' }));
    expect(a).toMatchObject({ kind: 'new', body: { study: { accessionNumber: 'A9', studyInstanceUid: '1.2.840.99.1' } } });
  });

  it.each<[string, string, RegExp]>([
    ['PID-3 missing', ormMessage({ pid3: '' }), /^PID\^1\^3\|101/],
    ['PID-3 without an MR', ormMessage({ pid3: '999-99-9999^^^SSA^SS' }), /^PID\^1\^3\|101/],
    ['PID-7 not a date', ormMessage({ birthDate: '19611302' }), /^PID\^1\^7\|102/],
    ['an NPI that fails its check digit', ormMessage({ npi: '1245319598' }), /^ORC\^1\^12\^1\^1\|102/],
    ['another service', ormMessage({ service: '71250^CT chest^C4' }), /^OBR\^1\^4\|103/],
    ['no diagnosis', ormMessage({ diagnoses: [] }), /^DG1\^1\^3\|101/],
    ['an ICD-9 diagnosis', ormMessage({ diagnoses: ['515^Postinflammatory pulmonary fibrosis^I9'] }), /^DG1\^1\^3\^1\^3\|103/],
    ['an unknown order control', ormMessage({ control: 'XO' }), /^ORC\^1\^1\|103/],
  ])('answers %s with the field that is wrong', (_what, text, err) => {
    const a = read(text);
    expect(a.kind).toBe('invalid');
    const ack = buildOrderAck(header(msg(text)), 'AE', a.kind === 'invalid' ? a.problems : [], { now: new Date(), charsetName: 'UNICODE UTF-8' });
    const p = independent(ack);
    expect(p.get('MSA.1')).toBe('AE');
    expect(p.get('MSA.2')).toBe('MSG0001');
    const errs = ack.split('\r').filter((s) => s.startsWith('ERR|')).map((s) => s.split('|').slice(2, 4).join('|'));
    expect(errs.some((e) => err.test(e)), errs.join(' ; ')).toBe(true);
  });

  it('rejects a message type it does not take, naming MSH-9', () => {
    expect(read(ormMessage().replace('ORM^O01^ORM_O01', 'ADT^A01^ADT_A01'))).toMatchObject({ kind: 'reject', problem: { location: { segment: 'MSH', field: 9 }, code: '200' } });
    expect(read(ormMessage().replace('ORM^O01^ORM_O01', 'ORM^O02'))).toMatchObject({ kind: 'reject', problem: { code: '201' } });
  });

  it('reads CA as a cancel of the placer order number', () => {
    expect(read(ormMessage({ control: 'CA' }))).toEqual({ kind: 'cancel', source: 'hl7:EPIC', orderId: 'ORD-1001' });
  });

  it('takes an unmapped plan as other, and MSH-7 when no order time is sent', () => {
    const text = ormMessage({ insurance: 'ACME' }).replace('|20261127090000|||1245319599', '||||1245319599').replace(/^(OBR\|1\|[^|]*\|\|[^|]*\|\|\|)20261127090000/m, '$1');
    expect(read(text)).toMatchObject({ kind: 'new', orderedAtFromMessage: true, body: { coverage: { payer: 'other' }, order: { orderedAt: '2026-11-27T09:00:00Z' } } });
  });
});

describe('hl7Timestamp', () => {
  it.each([
    ['20261127090000', '2026-11-27T09:00:00Z'],
    ['202611270900', '2026-11-27T09:00:00Z'],
    ['20261127090000.123-0500', '2026-11-27T09:00:00-05:00'],
    ['20261127', ''],
    ['20261327090000', ''],
    ['garbage', ''],
  ])('%s → %j', (v, iso) => expect(hl7Timestamp(v)).toBe(iso));
});

describe('orderSettings', () => {
  it('maps the IN1 plan ids of ILDFLOW_HL7_PAYERS, case-insensitively, and always takes 0877T', () => {
    const s = orderSettings({ ILDFLOW_HL7_ORDER_CODES: 'ctild1', ILDFLOW_HL7_PAYERS: 'mcare=medicare, BLUE=bcbs' });
    expect(s.serviceCodes).toEqual(['0877T', 'CTILD1']);
    expect(readOrderMessage(msg(ormMessage({ insurance: 'Blue' })), s)).toMatchObject({ kind: 'new', body: { coverage: { payer: 'bcbs' } } });
    expect(readOrderMessage(msg(ormMessage({ insurance: 'MEDICARE' })), s)).toMatchObject({ kind: 'new', body: { coverage: { payer: 'other' } } });
  });
});
