/**
 * One interface for every image source — DICOMweb, DIMSE or a folder (docs/design.md §5 "The PACS") — so the
 * workers never know which one they use. Summaries hold what selection needs; pixel data only ever goes
 * to disk, through `retrieveSeries`.
 */
export type StudySummary = Readonly<{
  studyInstanceUid: string;
  patientId: string;
  /** PatientName (PN, alphabetic group) and PatientBirthDate (DA): the second identifiers (docs/pacs.md). */
  patientName?: string;
  patientBirthDate?: string;
  accessionNumber?: string;
  studyDate?: string;
  studyDescription?: string;
  modalitiesInStudy: readonly string[];
}>;

export type SeriesSummary = Readonly<{
  studyInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  seriesDescription?: string;
  seriesNumber?: number;
  /** NumberOfSeriesRelatedInstances as the source reports it: what completeness is checked against. */
  instanceCount: number;
  imageType?: readonly string[];
  sliceThicknessMm?: number;
  convolutionKernel?: string;
  bodyPartExamined?: string;
  acquisitionDate?: string;
}>;

export type RetrievedSeries = Readonly<{ dir: string; files: number; bytes: number }>;

export interface ImageSource {
  readonly kind: 'folder' | 'dicomweb' | 'dimse';
  /** Answers when the source can be reached (readiness), or throws PacsUnavailable. */
  ping(): Promise<void>;
  findStudies(q: Readonly<{ patientId?: string; studyInstanceUid?: string; accessionNumber?: string }>): Promise<StudySummary[]>;
  findSeries(studyInstanceUid: string): Promise<SeriesSummary[]>;
  /** Writes every instance of the series as Part 10 files into `destDir` (which must exist and be empty). */
  retrieveSeries(studyInstanceUid: string, seriesInstanceUid: string, destDir: string, signal: AbortSignal): Promise<RetrievedSeries>;
  /**
   * Stores finished DICOM objects (the SR, the Encapsulated PDF) back into the source: STOW-RS, C-STORE,
   * or a copy into the folder. Resolves once the source has accepted every one; throws otherwise.
   */
  storeInstances(files: readonly string[], signal: AbortSignal): Promise<{ stored: number }>;
  /** Releases what the source holds open (the DIMSE C-MOVE receiver); optional. */
  close?(): Promise<void>;
}
