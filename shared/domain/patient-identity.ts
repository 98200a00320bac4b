/**
 * Two patient identifiers before analysis (The Joint Commission NPSG.01.01.01; docs/pacs.md "Two patient
 * identifiers"): the study must agree with the order on PatientID and on birth date, and on family name
 * where both carry one. A wrong or reused MRN otherwise gets another patient's CT analysed, signed and
 * billed. Pure: the retrieve worker reads the study's attributes and acts on the answer.
 */
import type { Patient, PatientIdentifier } from './case.js';

/** What the PACS says about the study's patient (PatientID, PatientName, PatientBirthDate; PS3.3 C.7.1.1). */
export type StudyPatient = Readonly<{ patientId: string; patientName?: string; birthDate?: string }>;

export type IdentityCheck = Readonly<{ agree: true }> | Readonly<{ agree: false; differs: readonly PatientIdentifier[] }>;

/** Display names of the identifiers, for the case's reason and the logs (never the values). */
export const IDENTIFIER_NAMES: Readonly<Record<PatientIdentifier, string>> = {
  patientId: 'patient ID',
  birthDate: 'birth date',
  familyName: 'family name',
};

/**
 * Letters that Unicode does not decompose into a base letter and a mark (NFKD leaves them whole), folded
 * the way registration clerks and interface engines transliterate them.
 */
const FOLD: Readonly<Record<string, string>> = { ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', æ: 'ae', œ: 'oe', ı: 'i', ß: 'ss' };

/**
 * A family name as a comparison key: case, accents, punctuation and spacing ignored, so `O'Brien-Núñez`,
 * `OBRIEN NUNEZ` and `o’brien‐nuñez` agree. `name` is either a DICOM PN or an HL7 XPN: in both the family name
 * is the first `^` component (PS3.5 §6.2.1.1; HL7 v2.5.1 §2.A.88), and of a PN only the alphabetic
 * component group (before the first `=`) is read. Empty when the name carries no family name.
 */
export function familyNameKey(name: string | undefined): string {
  const family = (name ?? '').split('=')[0]!.split('^')[0]!;
  return family
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[øłđðþæœıß]/g, (ch) => FOLD[ch] ?? ch)
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** DA (YYYYMMDD, PS3.5 §6.2) or ISO YYYY-MM-DD as YYYYMMDD; undefined when it is neither. */
function dateKey(d: string | undefined): string | undefined {
  const v = d?.trim().replaceAll('-', '');
  return v && /^\d{8}$/.test(v) ? v : undefined;
}

/**
 * Whether the study's patient is the order's. The birth date is required on both sides: a study without
 * one cannot be confirmed by a second identifier, so it disagrees (an admin decides). The family name is
 * compared only where both carry one (PatientName is type 2 and often empty in anonymised or outside studies).
 */
export function compareIdentifiers(order: Patient, study: StudyPatient): IdentityCheck {
  const differs: PatientIdentifier[] = [];
  if (order.id.trim() !== study.patientId.trim()) differs.push('patientId');
  const orderBirth = dateKey(order.birthDate);
  if (!orderBirth || orderBirth !== dateKey(study.birthDate)) differs.push('birthDate');
  const a = familyNameKey(order.name);
  const b = familyNameKey(study.patientName);
  if (a && b && a !== b) differs.push('familyName');
  return differs.length ? { agree: false, differs } : { agree: true };
}

/** "birth date and family name": the identifiers that differ, named without their values. */
export function describeDiffers(differs: readonly PatientIdentifier[]): string {
  const names = differs.map((d) => IDENTIFIER_NAMES[d]);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
