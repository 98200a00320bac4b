/**
 * The PDF report as a DICOM Encapsulated PDF (SOP Class 1.2.840.10008.5.1.4.1.1.104.1; PS3.3 A.45.1), in
 * the study of the CT it describes, so it appears beside the images in any PACS viewer.
 */
import type { Case } from '../../domain/case.js';
import { reportUids } from '../dicom-uids.js';
import type { BuiltDicom } from '../sr/build-ild-sr.js';
import { da, dtOf, tm } from '../sr/dicom-time.js';
import { writePart10 } from '../../dicom/write-part10.js';
import type { StudyContext } from '../study-context.js';

export const ENCAPSULATED_PDF_STORAGE = '1.2.840.10008.5.1.4.1.1.104.1';

export function buildEncapsulatedPdf(c: Case, pdf: Buffer, opts: Readonly<{ now: Date; study: StudyContext }>): BuiltDicom {
  const uids = reportUids(c.id, c.attempt);
  const s = opts.study;
  const now = opts.now;
  // OB values must have even length (PS3.5 7.1.1); the true length goes in EncapsulatedDocumentLength.
  const padded = pdf.length % 2 === 0 ? pdf : Buffer.concat([pdf, Buffer.from([0])]);
  const body = padded.buffer.slice(padded.byteOffset, padded.byteOffset + padded.byteLength);
  const dataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: da(now),
    InstanceCreationTime: tm(now),
    SOPClassUID: ENCAPSULATED_PDF_STORAGE,
    SOPInstanceUID: uids.pdfInstance,
    StudyDate: s.studyDate,
    ContentDate: da(now),
    StudyTime: s.studyTime,
    ContentTime: tm(now),
    AcquisitionDateTime: dtOf(c.result?.timings.finishedAt, now),
    AccessionNumber: s.accessionNumber,
    Modality: 'DOC',
    ConversionType: 'WSD', // workstation: the document was made by software, not scanned
    Manufacturer: 'ildflow',
    ...(s.institutionName ? { InstitutionName: s.institutionName } : {}),
    ReferringPhysicianName: s.referringPhysicianName,
    TimezoneOffsetFromUTC: '+0000',
    ...(s.studyDescription ? { StudyDescription: s.studyDescription } : {}),
    SeriesDescription: 'ILD analysis report (PDF)',
    PatientName: s.patientName,
    PatientID: s.patientId,
    ...(s.issuerOfPatientId ? { IssuerOfPatientID: s.issuerOfPatientId } : {}),
    PatientBirthDate: s.patientBirthDate,
    PatientSex: s.patientSex,
    StudyInstanceUID: s.studyInstanceUid,
    SeriesInstanceUID: uids.pdfSeries,
    StudyID: s.studyId,
    SeriesNumber: 9902,
    InstanceNumber: 1,
    BurnedInAnnotation: 'YES', // the PDF names the patient
    ConceptNameCodeSequence: [{ CodeValue: '18748-4', CodingSchemeDesignator: 'LN', CodeMeaning: 'Diagnostic imaging study' }],
    DocumentTitle: 'Quantitative chest CT analysis for interstitial lung disease',
    MIMETypeOfEncapsulatedDocument: 'application/pdf',
    EncapsulatedDocumentLength: pdf.length,
    EncapsulatedDocument: body,
    _vrMap: { EncapsulatedDocument: 'OB' },
  };
  return { bytes: writePart10(dataset), sopClassUid: ENCAPSULATED_PDF_STORAGE, sopInstanceUid: uids.pdfInstance, seriesInstanceUid: uids.pdfSeries, studyInstanceUid: s.studyInstanceUid };
}
