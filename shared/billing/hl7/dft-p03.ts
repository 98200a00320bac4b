/**
 * HL7 v2.5.1 DFT^P03 "Post detail financial transaction" for a charge or reversal event (docs/design.md §5
 * "Billing"). Pure: the same event and options give the same bytes, so a redelivery is byte-identical and
 * carries the same MSH-10 — the receiver's duplicate check (original-mode acknowledgment, HL7 v2.5.1
 * §2.9.2) sees one message, however often it is sent.
 *
 * Segments: MSH, EVN, PID, PV1, one FT1 per charge line, then one DG1 per diagnosis (DFT_P03 message
 * structure, HL7 v2.5.1 Chapter 6). Every data value goes through `escapeHl7`.
 */
import { createHash } from 'node:crypto';
import type { ChargeEvent } from '../charge-event.js';
import { escapeHl7, FIELD_SEPARATOR, ENCODING_CHARACTERS } from './escape.js';
import { comps, hl7Date, hl7DateTime, segment } from './segment.js';

export { hl7Date, hl7DateTime };

/** HL7 table 0396 coding systems. */
const CPT = 'C4'; // CPT-4 (also CPT modifiers 22/52)
const HCPCS = 'HCPCS'; // HCPCS Level II (modifiers GA/GZ)
const ICD10CM = 'I10C'; // ICD-10-CM

/** NPI assigning authority (HD): the CMS NPPES OID. */
const NPI_AUTHORITY = 'NPI&2.16.840.1.113883.4.6&ISO';

const MODIFIER_TEXT: Readonly<Record<string, [string, string]>> = {
  '22': ['Increased procedural services', CPT],
  '52': ['Reduced services', CPT],
  GA: ['Waiver of liability statement issued as required by payer policy', HCPCS],
  GZ: ['Item or service expected to be denied as not reasonable and necessary', HCPCS],
};

export type DftOptions = Readonly<{
  /** MSH-7 and EVN-2, and FT1-5 (posting date). */
  now: Date;
  sendingApplication?: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-11: P production, T training, D debugging. */
  processingId?: 'P' | 'T' | 'D';
  /** PID-3 assigning authority of the MRN (HD namespace id). Default: the sending facility. */
  mrnAuthority?: string;
}>;

/**
 * MSH-10, the message control id: 20 characters (the ST length of MSH-10 in v2.5.1), derived from the
 * event id so that every redelivery of one event carries the same control id.
 */
export function messageControlId(eventId: string): string {
  return `IF${createHash('sha256').update(eventId).digest('hex').slice(0, 18).toUpperCase()}`;
}

/**
 * A DICOM-style person name (PN: family^given^middle^prefix^suffix) as an XPN
 * (family^given^middle^suffix^prefix): PS3.5 §6.2 and HL7 v2.5.1 §2.A.88 order prefix and suffix
 * differently. Only the first (alphabetic) component group of a PN is used.
 */
export function xpnFromPersonName(pn: string): string {
  const [family, given, middle, prefix, suffix] = (pn.split('=')[0] ?? '').split('^');
  return comps(family, given, middle, suffix, prefix);
}

/**
 * A provider as XCN: NPI, then the name as one family-name component. ildflow holds a display name
 * ("Ada Reyes, MD"), not its parts, and splitting it would guess; XCN-13 says the id is an NPI.
 */
function xcn(npi: string, name: string): string {
  // XCN-9 is an HD with subcomponents: its '&' are structure, so it is not escaped.
  return [escapeHl7(npi), escapeHl7(name), '', '', '', '', '', '', NPI_AUTHORITY, '', '', '', 'NPI'].join('^');
}

/** FT1-27, HL7 table 0339 (only for Original Medicare, where the ABN applies). */
function abnCode(event: ChargeEvent): string | undefined {
  if (event.coverage.payer !== 'medicare') return undefined;
  // 3: "informed of responsibility, and asks that the payer be billed" — the CMS-R-131 option under which
  //    the claim goes to Medicare with GA. 4: "ABN has not been signed".
  return event.coverage.abn?.signed ? '3^Patient informed of responsibility, asks that the payer be billed^HL70339' : '4^Advanced Beneficiary Notice has not been signed^HL70339';
}

/** Builds the DFT^P03 message (segments separated by CR, as §2.5.1 requires; no MLLP frame). */
export function buildDftP03(event: ChargeEvent, opts: DftOptions): string {
  const now = hl7DateTime(opts.now);
  const doc = event.documentation;
  const dateOfService = hl7Date(doc.dates.dateOfService);
  const segments: string[] = [];

  // MSH-1 is the field separator itself and MSH-2 the encoding characters: neither is escaped.
  segments.push(
    `MSH${FIELD_SEPARATOR}${ENCODING_CHARACTERS}${FIELD_SEPARATOR}` +
      segment('', [
        comps(opts.sendingApplication ?? 'ILDFLOW'),
        comps(opts.sendingFacility),
        comps(opts.receivingApplication),
        comps(opts.receivingFacility),
        now,
        '',
        'DFT^P03^DFT_P03',
        messageControlId(event.eventId),
        opts.processingId ?? 'P',
        '2.5.1',
        '', // MSH-13 sequence number
        '', // MSH-14 continuation pointer
        '', // MSH-15/16 empty: original-mode acknowledgment (one ACK per message)
        '',
        'USA', // MSH-17 country
        'UNICODE UTF-8', // MSH-18 character set: names may carry any Unicode character
      ]).slice(1),
  );
  segments.push(segment('EVN', ['P03', now]));
  segments.push(
    segment('PID', [
      '1',
      '',
      [escapeHl7(event.patient.id), '', '', escapeHl7(opts.mrnAuthority ?? opts.sendingFacility), 'MR'].join('^'),
      '',
      xpnFromPersonName(event.patient.name),
      '',
      hl7Date(event.patient.birthDate),
      event.patient.sex,
    ]),
  );
  // PV1-2 O: outpatient (the analysis of a prior CT is an outpatient service); PV1-8 referring = orderer.
  segments.push(segment('PV1', ['1', 'O', '', '', '', '', '', xcn(doc.order.orderingProvider.npi, doc.order.orderingProvider.name)]));

  const diagnoses = event.diagnoses.map((code) => comps(code, '', ICD10CM)).join('~');
  const performer = xcn(doc.review.physician.npi, doc.review.physician.name);
  const orderer = xcn(doc.order.orderingProvider.npi, doc.order.orderingProvider.name);
  event.lines.forEach((line, i) => {
    const code = comps(line.code, line.description, CPT);
    const modifiers = line.modifiers
      .map((m) => {
        const [text, system] = MODIFIER_TEXT[m] ?? ['', CPT];
        return comps(m, text, system);
      })
      .join('~');
    segments.push(
      segment('FT1', [
        String(i + 1), // FT1-1 set id
        comps(event.eventId), // FT1-2 transaction id: the stable event id the billing system dedupes on
        comps(event.caseId.slice(0, 10)), // FT1-3 batch id (ST 10): the case
        dateOfService, // FT1-4 transaction date (DR): the date of service
        now, // FT1-5 posting date
        event.transactionType, // FT1-6 CG charge | CD credit (table 0017)
        code, // FT1-7 transaction code (required in v2.5.1): the CPT code
        comps(line.description), // FT1-8
        '',
        '1', // FT1-10 quantity: a credit is sent as CD with a positive quantity
        '',
        '',
        '',
        comps(event.payer), // FT1-14 insurance plan id
        '',
        '',
        '',
        '',
        diagnoses, // FT1-19
        performer, // FT1-20
        orderer, // FT1-21
        '',
        comps(doc.sourceStudy.accessionNumber), // FT1-23 filler order number: the accession
        '',
        code, // FT1-25 procedure code
        modifiers, // FT1-26
        abnCode(event), // FT1-27
      ]),
    );
  });
  // DG1-6 "F" final (table 0052); DG1-15 priority: the order of the claim, 1 = primary.
  event.diagnoses.forEach((code, i) => segments.push(segment('DG1', [String(i + 1), '', comps(code, '', ICD10CM), '', '', 'F', '', '', '', '', '', '', '', '', String(i + 1)])));
  return segments.join('\r') + '\r';
}
