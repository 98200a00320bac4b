/**
 * An HL7 v2 order (ORM^O01, or OMI^O23 of IHE Radiology's scheduled workflow) read into what ildflow does
 * with it (docs/ehr.md has the field map and a sample). ORC-1 `NW` creates a case from the same body
 * `POST /v1/cases` takes, validated by the same schema; `CA` cancels the case that holds the placer order
 * number. Pure: the listener (services/ehr) stores the result and acknowledges it.
 *
 * Problems come back with the HL7 location of the field (ERR-2, HL7 v2.5.1 §2.15.5.2) and an HL7 table 0357
 * code (ERR-3), so the interface engine's analyst sees which field of which segment to fix.
 */
import { CreateCaseBody, type Payer, type Priority } from '../domain/case.js';
import { header, repetitions, segmentsOf, value, type Hl7Message, type Hl7Segment } from './hl7-message.js';

/** ERR-2 (ERL): segment id, its sequence in the message, field, component (HL7 v2.5.1 §2.A.27). */
export type ErrorLocation = Readonly<{ segment: string; sequence: number; field: number; component?: number }>;

/** HL7 table 0357 (message error condition codes) that ildflow answers with. */
export const ERROR_CODES = {
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export type OrderProblem = Readonly<{ location?: ErrorLocation; code: ErrorCode; text: string }>;

/** The messages ildflow takes (MSH-9.1^MSH-9.2). */
export const ORDER_MESSAGES: readonly string[] = ['ORM^O01', 'OMI^O23'];

export type OrderSettings = Readonly<{
  /** OBR-4.1 codes that order the analysis: CPT 0877T and the site's local codes. */
  serviceCodes: readonly string[];
  /** IN1-2.1 (plan) or IN1-3.1 (company id), upper case → payer; unmapped → `other`. */
  payers: Readonly<Record<string, Payer>>;
}>;

export type OrderAction =
  /** The ordering source is the sending application (MSH-3): placer order numbers are unique per source. */
  /** `orderedAtFromMessage`: no order time was sent, MSH-7 stood in (a resent message may carry another). */
  | Readonly<{ kind: 'new'; source: string; body: CreateCaseBody; orderedAtFromMessage: boolean }>
  | Readonly<{ kind: 'cancel'; source: string; orderId: string }>
  /** AR: a message type or event ildflow does not take. */
  | Readonly<{ kind: 'reject'; problem: OrderProblem }>
  /** AE: the message is of a kind ildflow takes, but a field is missing or wrong. */
  | Readonly<{ kind: 'invalid'; problems: readonly OrderProblem[] }>;

/** Where each part of the order body comes from: a schema problem is reported at its HL7 field. */
const BODY_FIELDS: readonly (readonly [string, string, number, number?])[] = [
  ['order.id', 'ORC', 2],
  ['order.orderedAt', 'ORC', 9],
  ['order.priority', 'TQ1', 9],
  ['order.orderingProvider.npi', 'ORC', 12, 1],
  ['order.orderingProvider.name', 'ORC', 12, 2],
  ['order.indications', 'DG1', 3],
  ['order.encounterDate', 'PV1', 44],
  ['patient.id', 'PID', 3],
  ['patient.name', 'PID', 5],
  ['patient.birthDate', 'PID', 7],
  ['patient.sex', 'PID', 8],
  ['study.accessionNumber', 'OBR', 18],
  ['study.studyInstanceUid', 'ZDS', 1],
  ['study', 'OBR', 18],
  ['coverage.memberId', 'IN1', 36],
];

/** HL7 table 0485 / TQ priority codes → ildflow's priorities. */
const PRIORITY: Readonly<Record<string, Priority>> = { S: 'stat', A: 'urgent', T: 'urgent', R: 'routine', P: 'routine', C: 'routine' };

/** HL7 table 0001 administrative sex → the DICOM-style code ildflow keeps (A ambiguous → O, N not applicable → U). */
const SEX: Readonly<Record<string, 'F' | 'M' | 'O' | 'U'>> = { F: 'F', M: 'M', O: 'O', U: 'U', A: 'O', N: 'U' };

export function readOrderMessage(m: Hl7Message, settings: OrderSettings): OrderAction {
  const h = header(m);
  const type = `${h.messageType}^${h.triggerEvent}`;
  if (!ORDER_MESSAGES.includes(type)) {
    const known = ORDER_MESSAGES.some((t) => t.startsWith(`${h.messageType}^`));
    return {
      kind: 'reject',
      problem: {
        location: { segment: 'MSH', sequence: 1, field: 9 },
        code: known ? '201' : '200',
        text: `ildflow takes ORM^O01 and OMI^O23 orders, not ${type}`,
      },
    };
  }
  const source = `hl7:${h.sendingApplication || 'unknown'}`;
  const at = (segment: string, field: number, component?: number, sequence = 1): ErrorLocation => ({ segment, sequence, field, ...(component ? { component } : {}) });
  const orcs = segmentsOf(m, 'ORC');
  if (orcs.length === 0) return invalid({ location: at('ORC', 1), code: '100', text: 'the message has no ORC segment' });
  if (orcs.length > 1) return invalid({ location: at('ORC', 1, undefined, 2), code: '100', text: 'one order per message: send each ORC group as its own message' });
  const orc = orcs[0]!;
  const control = value(m, orc, 1);
  const orderId = value(m, orc, 2) || value(m, segmentsOf(m, 'OBR')[0], 2);
  if (!orderId) return invalid({ location: at('ORC', 2), code: '101', text: 'ORC-2 placer order number is required' });
  if (control === 'CA') return { kind: 'cancel', source, orderId };
  if (control !== 'NW')
    return invalid({ location: at('ORC', 1), code: '103', text: `ORC-1 order control ${control || '(empty)'} is not taken: NW creates, CA cancels` });
  return readNewOrder(m, orc, orderId, source, settings, at);
}

function readNewOrder(m: Hl7Message, orc: Hl7Segment, orderId: string, source: string, settings: OrderSettings, at: (s: string, f: number, c?: number) => ErrorLocation): OrderAction {
  const problems: OrderProblem[] = [];
  const pid = segmentsOf(m, 'PID')[0];
  const obr = segmentsOf(m, 'OBR')[0];
  const tq1 = segmentsOf(m, 'TQ1')[0];
  const pv1 = segmentsOf(m, 'PV1')[0];
  if (!pid) problems.push({ location: at('PID', 1), code: '100', text: 'the message has no PID segment' });
  if (!obr) problems.push({ location: at('OBR', 1), code: '100', text: 'the message has no OBR segment' });

  // PID-3: the repetition whose identifier type (CX-5) is MR, the medical record number DICOM's PatientID
  // holds; else one sent without a type. Typed identifiers none of which is MR (SS, PI, …) are not taken.
  const cxs = repetitions(m, pid, 3).filter((cx) => (cx[0]?.[0] ?? '').trim() !== '');
  const type = (cx: string[][]) => (cx[4]?.[0] ?? '').trim().toUpperCase();
  const mrn = (cxs.find((cx) => type(cx) === 'MR') ?? cxs.find((cx) => type(cx) === ''))?.[0]?.[0]?.trim() ?? '';
  if (pid && !mrn)
    problems.push({ location: at('PID', 3), code: '101', text: cxs.length ? 'PID-3 has no patient identifier of type MR (CX-5)' : 'PID-3 patient identifier list is required (the MRN, type MR)' });

  const service = value(m, obr, 4);
  if (obr && !service) problems.push({ location: at('OBR', 4), code: '101', text: 'OBR-4 universal service identifier is required' });
  else if (obr && !settings.serviceCodes.includes(service.toUpperCase()))
    problems.push({ location: at('OBR', 4), code: '103', text: `OBR-4 ${service} is not a service ildflow performs (takes ${settings.serviceCodes.join(', ')})` });

  // When the order was placed: ORC-9, TQ1-7, OBR-6 or OBR-7; else the message's own time (MSH-7).
  const orderedText = value(m, orc, 9) || value(m, tq1, 7) || value(m, obr, 6) || value(m, obr, 7);
  const orderedAt = hl7Timestamp(orderedText || value(m, m.segments[0], 7));
  if (!orderedAt) problems.push({ location: at('ORC', 9), code: '102', text: 'ORC-9 date/time of transaction (or MSH-7) is not a DTM (YYYYMMDDHHMM[SS][+/-ZZZZ])' });

  const birthDate = hl7Date(value(m, pid, 7));
  if (pid && !birthDate) problems.push({ location: at('PID', 7), code: value(m, pid, 7) ? '102' : '101', text: 'PID-7 date of birth is required (YYYYMMDD): it is the second patient identifier' });

  const provider = orderingProvider(m, orc, obr);
  if (!provider) problems.push({ location: at('ORC', 12), code: '101', text: 'ORC-12 (or OBR-16) ordering provider with an NPI is required (XCN-1, XCN-13 NPI)' });

  const dg1s = segmentsOf(m, 'DG1');
  const indications = dg1s.map((dg1) => icd10(value(m, dg1, 3, 1)));
  dg1s.forEach((dg1) => {
    const system = value(m, dg1, 3, 3).toUpperCase();
    // HL7 table 0396: I10 is ICD-10 (CM in the US), I10C ICD-10-CM; a code of another system is not an indication.
    if (system && !['I10', 'I10C', 'ICD10CM', 'ICD-10-CM'].includes(system))
      problems.push({ location: { segment: 'DG1', sequence: dg1.sequence, field: 3, component: 3 }, code: '103', text: `DG1-3 coding system ${system} is not ICD-10-CM (I10)` });
  });
  if (!indications.length) problems.push({ location: at('DG1', 3), code: '101', text: 'at least one DG1 segment with an ICD-10-CM diagnosis (DG1-3) is required' });

  const encounter = hl7Date(value(m, pv1, 44));
  const accession = value(m, obr, 18) || value(m, segmentsOf(m, 'IPC')[0], 1);
  const studyUid = value(m, segmentsOf(m, 'IPC')[0], 3) || value(m, segmentsOf(m, 'ZDS')[0], 1);
  const priorityCode = value(m, tq1, 9) || value(m, orc, 7, 6) || value(m, obr, 27, 6);
  const in1 = segmentsOf(m, 'IN1')[0];
  const payerKey = [value(m, in1, 2), value(m, in1, 3)].map((k) => k.toUpperCase()).find((k) => k && settings.payers[k]);
  const memberId = value(m, in1, 36) || value(m, in1, 49);
  if (problems.length) return invalid(...problems);

  const candidate = {
    order: {
      id: orderId,
      orderedAt,
      priority: PRIORITY[priorityCode.toUpperCase()] ?? 'routine',
      orderingProvider: provider,
      indications,
      ...(encounter ? { encounterDate: encounter } : {}),
    },
    patient: { id: mrn, name: personName(repetitions(m, pid, 5)[0] ?? []), birthDate, sex: SEX[value(m, pid, 8).toUpperCase()] ?? 'U' },
    ...(accession || studyUid ? { study: { ...(studyUid ? { studyInstanceUid: studyUid } : {}), ...(accession ? { accessionNumber: accession } : {}) } } : {}),
    coverage: { payer: payerKey ? settings.payers[payerKey]! : 'other', ...(memberId ? { memberId } : {}) },
  };
  const parsed = CreateCaseBody.safeParse(candidate);
  if (!parsed.success)
    return invalid(
      ...parsed.error.issues.map((i): OrderProblem => {
        const path = i.path.join('.');
        const where = BODY_FIELDS.find(([p]) => path === p || path.startsWith(`${p}.`));
        return { ...(where ? { location: at(where[1], where[2], where[3]) } : {}), code: '102', text: `${where ? `${where[1]}-${where[2]}` : path}: ${i.message}` };
      }),
    );
  return { kind: 'new', source, body: parsed.data, orderedAtFromMessage: !orderedText };
}

const invalid = (...problems: OrderProblem[]): OrderAction => ({ kind: 'invalid', problems });

/**
 * XCN (HL7 v2.5.1 §2.A.89) of ORC-12, else OBR-16: the repetition that is an NPI (XCN-13 `NPI`, or no type
 * at all), shown as "Given Family, Degree".
 */
function orderingProvider(m: Hl7Message, orc: Hl7Segment, obr: Hl7Segment | undefined): { npi: string; name: string } | null {
  for (const xcns of [repetitions(m, orc, 12), repetitions(m, obr, 16)]) {
    const xcn = xcns.find((x) => ['NPI', ''].includes((x[12]?.[0] ?? '').toUpperCase()) && (x[0]?.[0] ?? '') !== '');
    if (!xcn) continue;
    const c = (i: number) => (xcn[i]?.[0] ?? '').trim();
    const name = [c(2), c(3), c(1)].filter(Boolean).join(' ') + (c(6) ? `, ${c(6)}` : '');
    return { npi: c(0), name: name || c(0) };
  }
  return null;
}

/** XPN (family^given^middle^suffix^prefix, §2.A.88) → the DICOM PN order ildflow keeps (family^given^middle^prefix^suffix). */
function personName(xpn: string[][]): string {
  const c = (i: number) => (xpn[i]?.[0] ?? '').trim();
  const parts = [c(0), c(1), c(2), c(4), c(3)];
  while (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts.join('^');
}

/** ICD-10-CM as HL7 senders often write it, without the dot (J8410 → J84.10). */
function icd10(code: string): string {
  const c = code.trim().toUpperCase();
  return c.length > 3 && !c.includes('.') ? `${c.slice(0, 3)}.${c.slice(3)}` : c;
}

/** DT / the date of a DTM (YYYYMMDD…) → YYYY-MM-DD, or '' when it is not a calendar date. */
export function hl7Date(v: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(v.trim());
  if (!m) return '';
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(iso) ? iso : '';
}

/**
 * DTM (YYYYMMDDHHMM[SS[.S+]][+/-ZZZZ], §2.A.22) → ISO 8601 with an offset. Without an offset the sender's
 * local time is meant, which ildflow cannot know: it is taken as UTC (docs/ehr.md); a few hours matter
 * only to "acquired before the order", which compares dates.
 */
export function hl7Timestamp(v: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d{1,4})?([+-]\d{4})?$/.exec(v.trim());
  if (!m || !hl7Date(v)) return '';
  const [, y, mo, d, hh, mm, ss = '00', tz] = m;
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59) return '';
  return `${y}-${mo}-${d}T${hh}:${mm}:${ss}${tz ? `${tz.slice(0, 3)}:${tz.slice(3)}` : 'Z'}`;
}
