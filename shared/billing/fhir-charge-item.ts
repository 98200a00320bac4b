/**
 * FHIR R4 ChargeItem for a charge or reversal event (docs/design.md §5 "Billing"), validated against the R4
 * definitions of `@ahryman40k/ts-fhir-types` (io-ts runtime types generated from the R4 StructureDefinitions).
 *
 * One ChargeItem per charge line (R4 ChargeItem.code holds one code: split mode gives two). A reversal is
 * the SAME ChargeItem (same id, derived from the charge's event id) with status `not-billable`: the service
 * was performed but is withdrawn from billing by the addendum, so a FHIR server updates the item instead of
 * creating a second one. References to resources ildflow does not host (patient, physicians, imaging study)
 * are logical references by identifier, as in the DiagnosticReport (shared/reports/fhir-diagnostic-report.ts).
 *
 * Where R4 has no element (CPT modifiers, the HL7 ABN code), ildflow uses extensions under its own URL.
 */
import { R4 } from '@ahryman40k/ts-fhir-types';
import type { ChargeEvent } from './charge-event.js';
import { ReasonsError } from '../errors.js';
import { diagnosticReportId, ILDFLOW_CASE_ID, NPI_SYSTEM } from '../reports/fhir-diagnostic-report.js';

export const CPT_SYSTEM = 'http://www.ama-assn.org/go/cpt';
export const ICD10CM_SYSTEM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const HCPCS_SYSTEM = 'urn:oid:2.16.840.1.113883.6.285';
export const ILDFLOW_CHARGE_EVENT_ID = 'https://ildflow.dev/fhir/sid/charge-event-id';
export const CPT_MODIFIER_EXTENSION = 'https://ildflow.dev/fhir/StructureDefinition/procedure-modifier';
export const ABN_EXTENSION = 'https://ildflow.dev/fhir/StructureDefinition/abn-signed';

export type ChargeItem = R4.IChargeItem;

/** The R4 resource id of the ChargeItem for one line (stable across the charge and its reversal). */
export function chargeItemId(event: ChargeEvent, code: string): string {
  const base = event.kind === 'reversal' && event.reverses ? event.reverses : event.eventId;
  const id = `${base}.${code}`;
  // R4 id: [A-Za-z0-9\-\.]{1,64}. Case ids are UUIDs, so this fits; the cut is only a guard.
  return id.replace(/[^A-Za-z0-9.-]/g, '-').slice(-64);
}

export class ChargeItemInvalid extends ReasonsError {
  readonly status = 500;
  readonly slug = 'charge-item-invalid';
  readonly title = 'The FHIR ChargeItem does not validate against FHIR R4';
}

/** Builds the ChargeItems of an event and validates each; throws `ChargeItemInvalid` listing every problem. */
export function buildChargeItems(event: ChargeEvent): ChargeItem[] {
  const doc = event.documentation;
  const subject = {
    type: 'Patient',
    identifier: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: event.patient.id },
  };
  const performer = {
    type: 'Practitioner',
    identifier: { system: NPI_SYSTEM, value: doc.review.physician.npi },
    display: doc.review.physician.name,
  };
  const engine = doc.engine;
  const device = {
    resourceType: 'Device' as const,
    id: 'engine',
    identifier: [{ system: 'https://ildflow.dev/fhir/sid/engine', value: `${engine.id}@${engine.version}` }],
    deviceName: [{ name: engine.name, type: R4.Device_DeviceNameTypeKind._userFriendlyName }],
    version: [{ value: engine.version }],
    note: [{ text: engine.regulatoryStatus === 'cleared' ? `Cleared device${engine.authorization ? ` (${engine.authorization})` : ''}` : 'Research use only; not a cleared medical device' }],
  };
  const service = [
    ...(doc.reports.fhirDiagnosticReportId || doc.reports.pdfSha256
      ? [{ type: 'DiagnosticReport', reference: `DiagnosticReport/${doc.reports.fhirDiagnosticReportId ?? diagnosticReportId(event.caseId)}` }]
      : []),
    { type: 'ImagingStudy', identifier: { system: 'urn:dicom:uid', value: `urn:oid:${doc.sourceStudy.studyInstanceUid}` } },
  ];
  const reversal = event.kind === 'reversal';

  const items = event.lines.map((line): ChargeItem => ({
    resourceType: 'ChargeItem',
    id: chargeItemId(event, line.code),
    contained: [device],
    extension: [
      ...line.modifiers.map((m) => ({
        url: CPT_MODIFIER_EXTENSION,
        valueCoding: { system: /^\d/.test(m) ? CPT_SYSTEM : HCPCS_SYSTEM, code: m },
      })),
      ...(event.coverage.payer === 'medicare' ? [{ url: ABN_EXTENSION, valueBoolean: event.coverage.abn?.signed === true }] : []),
    ],
    identifier: [
      { system: ILDFLOW_CHARGE_EVENT_ID, value: event.eventId },
      { system: ILDFLOW_CASE_ID, value: event.caseId },
    ],
    status: reversal ? R4.ChargeItemStatusKind._notBillable : R4.ChargeItemStatusKind._billable,
    code: { coding: [{ system: CPT_SYSTEM, code: line.code, display: line.description }], text: line.description },
    subject,
    occurrenceDateTime: doc.dates.dateOfService,
    performer: [{ actor: performer }],
    quantity: { value: line.units },
    enteredDate: event.createdAt,
    reason: event.diagnoses.map((code) => ({ coding: [{ system: ICD10CM_SYSTEM, code }] })),
    service,
    productReference: { reference: '#engine', type: 'Device', display: `${engine.name} ${engine.version}` },
    note: [
      ...(reversal ? [{ text: `Reversed (${event.eventId}): ${event.reversalReason ?? ''}` }] : []),
      ...line.notes.map((text) => ({ text })),
      ...event.advisories.map((text) => ({ text })),
    ],
  }));
  const problems = items.flatMap((item, i) => validateChargeItem(item).map((p) => `ChargeItem ${i + 1}: ${p}`));
  if (problems.length > 0) throw new ChargeItemInvalid(problems);
  return items;
}

/**
 * Validates a ChargeItem with the R4 runtime type, plus the two rules the generated type leaves out:
 * `status` is 1..1 in R4 (optional in the generated type), and choice elements (`occurrence[x]`) and
 * `enteredDate` are typed as plain strings there, so they are checked against the R4 dateTime type.
 */
export function validateChargeItem(value: unknown): string[] {
  const result = R4.RTTI_ChargeItem.decode(value);
  const problems: string[] = [];
  if (result._tag === 'Left') {
    for (const e of result.left) {
      const path = e.context
        .map((c) => c.key)
        .filter(Boolean)
        .join('.');
      problems.push(`${path || '(root)'}: ${e.message ?? `invalid value ${JSON.stringify(e.value)?.slice(0, 80)}`}`);
    }
    return problems;
  }
  const item = result.right;
  if (!item.status) problems.push('status: required (1..1 in R4)');
  for (const [name, v] of [['occurrenceDateTime', item.occurrenceDateTime], ['enteredDate', item.enteredDate]] as const)
    if (v !== undefined && !R4.RTTI_dateTime.is(v)) problems.push(`${name}: "${v}" is not an R4 dateTime`);
  return problems;
}
