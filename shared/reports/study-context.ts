/**
 * The patient and study attributes a derived DICOM object (SR, Encapsulated PDF) must share with the
 * images it describes (PS3.3 C.7.1.1 Patient, C.7.2.1 General Study): copied from a source instance, so
 * the PACS files the report under the same patient and study as the CT. Without a readable source file
 * (a unit test, a purged spool) they come from the case, which holds what the order and the PACS said.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import type { Case } from '../domain/case.js';
import type { StudyAttributes } from '../dicom/study-attributes.js';

/** The attributes themselves are typed in shared/dicom (the SEG writer copies them too). */
export type StudyContext = StudyAttributes;

/** DICOM DA (YYYYMMDD) from an ISO date or a DA; empty when unknown (Type 2). */
export function toDa(text: string | undefined): string {
  const m = text ? /^(\d{4})-?(\d{2})-?(\d{2})/.exec(text.trim()) : null;
  return m ? `${m[1]}${m[2]}${m[3]}` : '';
}

export function studyContextFromCase(c: Case): StudyContext {
  return {
    patientName: c.patient.name,
    patientId: c.patient.id,
    patientBirthDate: toDa(c.patient.birthDate),
    patientSex: c.patient.sex === 'U' ? 'O' : c.patient.sex,
    studyInstanceUid: c.source?.studyInstanceUid ?? c.result?.input.studyInstanceUid ?? '',
    studyDate: toDa(c.source?.studyDate),
    studyTime: '',
    referringPhysicianName: '',
    studyId: '',
    accessionNumber: c.source?.accessionNumber ?? '',
  };
}

const str = (v: unknown): string | undefined => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map((x) => str(x) ?? '').join('\\');
  // dcmjs naturalizes PN as [{Alphabetic: 'DOE^JANE'}] in 0.51.
  if (v && typeof v === 'object' && 'Alphabetic' in v) return String((v as { Alphabetic: unknown }).Alphabetic ?? '');
  return undefined;
};

/**
 * Reads the patient and study attributes from the first Part 10 file in `seriesDir`, stopping before the
 * pixel data; falls back to the case's own data for anything missing or when no file can be read.
 */
export function readStudyContext(c: Case, seriesDir: string | undefined): Promise<StudyContext> {
  return readStudyContextFrom(seriesDir, studyContextFromCase(c));
}

/** The same from a series folder alone (the reference engine's SEG), with `fallback` for what is missing. */
export async function readStudyContextFrom(seriesDir: string | undefined, fallback: StudyContext): Promise<StudyContext> {
  if (!seriesDir) return fallback;
  let ds: Record<string, unknown>;
  try {
    const names = (await readdir(seriesDir)).filter((n) => !n.endsWith('.json')).sort();
    if (names.length === 0) return fallback;
    const buf = await readFile(join(seriesDir, names[0]!));
    const dict = dcmjs.data.DicomMessage.readFile(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), { untilTag: '7FE00010' });
    ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict) as Record<string, unknown>;
  } catch {
    return fallback; // unreadable: the case's data is still right, just less complete
  }
  const pick = (k: string, f: string) => str(ds[k]) ?? f;
  return {
    ...(str(ds.SpecificCharacterSet) ? { specificCharacterSet: str(ds.SpecificCharacterSet) } : {}),
    patientName: pick('PatientName', fallback.patientName),
    patientId: pick('PatientID', fallback.patientId),
    ...(str(ds.IssuerOfPatientID) ? { issuerOfPatientId: str(ds.IssuerOfPatientID) } : {}),
    patientBirthDate: pick('PatientBirthDate', fallback.patientBirthDate),
    patientSex: pick('PatientSex', fallback.patientSex),
    studyInstanceUid: pick('StudyInstanceUID', fallback.studyInstanceUid),
    studyDate: pick('StudyDate', fallback.studyDate),
    studyTime: pick('StudyTime', ''),
    referringPhysicianName: pick('ReferringPhysicianName', ''),
    studyId: pick('StudyID', ''),
    accessionNumber: pick('AccessionNumber', fallback.accessionNumber),
    ...(str(ds.StudyDescription) ? { studyDescription: str(ds.StudyDescription) } : {}),
    ...(str(ds.InstitutionName) ? { institutionName: str(ds.InstitutionName) } : {}),
  };
}
