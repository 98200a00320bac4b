/**
 * The patient and study attributes a derived DICOM object (SR, Encapsulated PDF, SEG) shares with the
 * images it describes (PS3.3 C.7.1.1 Patient, C.7.2.1 General Study); read by shared/reports/study-context.ts.
 */
export type StudyAttributes = Readonly<{
  specificCharacterSet?: string;
  patientName: string;
  patientId: string;
  issuerOfPatientId?: string;
  patientBirthDate: string;
  patientSex: string;
  studyInstanceUid: string;
  studyDate: string;
  studyTime: string;
  referringPhysicianName: string;
  studyId: string;
  accessionNumber: string;
  studyDescription?: string;
  /** InstitutionName of the CT: the organisation of record for the verifying physician when no other is known. */
  institutionName?: string;
}>;
