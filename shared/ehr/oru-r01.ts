/**
 * HL7 v2.5.1 ORU^R01 "Unsolicited transmission of an observation" for a signed result (HL7 v2.5.1 Chapter 7;
 * docs/ehr.md "Results"). Pure: the same result event, PDF and options give the same bytes, and MSH-10 is
 * derived from the event id, so a redelivery carries the same control id and the receiver's duplicate
 * check (§2.9.2) sees one message however often it is sent.
 *
 * Segments: MSH, PID, PV1, ORC (RE: observations to follow), OBR, then OBX: the ILD category (CWE), each key
 * quantity (NM, UCUM units), the report text (TX, one repetition per line) and the PDF (ED, Base64).
 */
import { ENCODING_CHARACTERS, FIELD_SEPARATOR, escapeHl7 } from '../billing/hl7/escape.js';
import { messageControlId, xpnFromPersonName } from '../billing/hl7/dft-p03.js';
import { comps, hl7Date, hl7DateTime, segment } from '../billing/hl7/segment.js';
import type { ResultEvent } from './result-event.js';

/** HL7 table 0396: a code system local to the sender. ildflow's codes are those of its FHIR code system. */
const LOCAL = 'L';
const UCUM = 'UCUM';
const CPT = 'C4';
/** NPI assigning authority (HD as subcomponents): the CMS NPPES OID. */
const NPI_AUTHORITY = ['NPI', '2.16.840.1.113883.4.6', 'ISO'];

export type OruOptions = Readonly<{
  now: Date;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  processingId?: 'P' | 'T' | 'D';
}>;

export const oruControlId = (e: Pick<ResultEvent, 'eventId'>) => messageControlId(e.eventId);

/** A provider as XCN: NPI, the display name as the family name, XCN-9 the NPI authority, XCN-13 `NPI`. */
function xcn(p: { npi: string; name: string }): string {
  return [escapeHl7(p.npi), escapeHl7(p.name), '', '', '', '', '', '', NPI_AUTHORITY.join('&'), '', '', '', 'NPI'].join('^');
}

/** OBR-32 principal result interpreter, NDL: CNN (id & name & … & authority) ^ start date/time. */
function ndl(p: { npi: string; name: string }, at: string): string {
  const cnn = [escapeHl7(p.npi), escapeHl7(p.name), '', '', '', '', '', '', ...NPI_AUTHORITY].join('&');
  return `${cnn}^${hl7DateTime(new Date(at))}`;
}

export function buildOruR01(e: ResultEvent, pdf: Buffer, opts: OruOptions): string {
  const status = e.resultStatus;
  const segments: string[] = [];
  segments.push(
    `MSH${FIELD_SEPARATOR}${ENCODING_CHARACTERS}${FIELD_SEPARATOR}` +
      segment('', [
        comps('ILDFLOW'),
        comps(opts.sendingFacility),
        comps(opts.receivingApplication),
        comps(opts.receivingFacility),
        hl7DateTime(opts.now),
        '',
        'ORU^R01^ORU_R01',
        oruControlId(e),
        opts.processingId ?? 'P',
        '2.5.1',
        '', '', '', '', // MSH-13…16: original-mode acknowledgment
        'USA',
        'UNICODE UTF-8',
      ]).slice(1),
  );
  segments.push(
    segment('PID', ['1', '', [escapeHl7(e.patient.id), '', '', escapeHl7(opts.sendingFacility), 'MR'].join('^'), '', xpnFromPersonName(e.patient.name), '', hl7Date(e.patient.birthDate), e.patient.sex]),
  );
  segments.push(segment('PV1', ['1', 'O', '', '', '', '', '', xcn(e.orderingProvider)]));
  // ORC-1 RE: observations to follow; ORC-2 the placer's order number, ORC-3 ildflow's case (filler).
  segments.push(segment('ORC', ['RE', comps(e.orderId), comps(e.caseId.slice(0, 22), 'ILDFLOW'), '', 'CM', '', '', '', hl7DateTime(new Date(e.resultAt)), '', '', xcn(e.orderingProvider)]));
  const obr = new Array<string>(33).fill('');
  obr[1] = '1';
  obr[2] = comps(e.orderId);
  obr[3] = comps(e.caseId.slice(0, 22), 'ILDFLOW');
  obr[4] = comps('0877T', 'Quantitative CT analysis of a previously acquired chest CT for ILD', CPT);
  obr[7] = hl7DateTime(new Date(e.analysedAt)); // observation date/time: the analysis
  obr[16] = xcn(e.orderingProvider);
  obr[18] = comps(e.accessionNumber);
  obr[22] = hl7DateTime(new Date(e.resultAt)); // results report/status change
  obr[24] = 'CT'; // diagnostic service section (table 0074)
  obr[25] = status;
  obr[32] = ndl(e.signer, e.resultAt);
  segments.push(segment('OBR', obr.slice(1)));

  let n = 0;
  const obx = (type: string, id: string, value: string, units = '') =>
    segments.push(segment('OBX', [String(++n), type, id, '', value, units, '', '', '', '', status, '', '', hl7DateTime(new Date(e.analysedAt))]));
  obx('CWE', comps('ct-pattern', 'ILD CT pattern (ATS/ERS/JRS/ALAT 2018)', LOCAL), comps(e.category.code, e.category.text, LOCAL));
  for (const q of e.quantities) obx('NM', comps(q.code, q.text, LOCAL), String(Math.round(q.value * 100) / 100), comps(q.unit, q.unit, UCUM));
  obx('TX', comps('report-text', 'Report text', LOCAL), e.reportText.map((l) => escapeHl7(l)).join('~'));
  // ED: source application ^ type AP (application data) ^ subtype PDF ^ encoding Base64 ^ data (§2.A.24).
  obx('ED', comps('report-pdf', 'Report PDF', LOCAL), ['ILDFLOW', 'AP', 'PDF', 'Base64', pdf.toString('base64')].join('^'));
  return segments.join('\r') + '\r';
}
