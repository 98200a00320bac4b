/**
 * Test fixtures: a realistic signed case for an ILD analysis, valid against the real schemas
 * (`EngineResult.parse`, `Order`, `Patient`, `Coverage`). Each call returns a fresh object, so a test
 * may mutate what it gets. Used by billing, reports and other capabilities' tests; not imported by
 * production code.
 */
import { EngineResult } from '../engines/contract.js';
import type { Case, Review, SourceSeries } from '../domain/case.js';

/** Valid NPIs (Luhn with prefix 80840), the ones docs/design.md uses in its examples. */
export const FIXTURE_NPI = { orderer: '1245319599', signer: '1234567893' } as const;

export const FIXTURE_UIDS = {
  study: '1.2.826.0.1.3680043.8.498.10293847561029384756',
  series: '1.2.826.0.1.3680043.8.498.10293847561029384756.2',
  keyImage: '1.2.826.0.1.3680043.8.498.10293847561029384756.2.148',
} as const;

/** A reference-engine result for a UIP pattern (honeycombing, basal and subpleural predominant). */
export function makeEngineResult(overrides: Partial<EngineResult> = {}): EngineResult {
  return EngineResult.parse({
    schema: 'ildflow.engine-result/1',
    engine: {
      id: 'reference',
      name: 'ildflow reference QCT engine',
      version: '1.0.0',
      vendor: 'ildflow',
      regulatory: { status: 'research' },
    },
    input: {
      studyInstanceUid: FIXTURE_UIDS.study,
      seriesInstanceUid: FIXTURE_UIDS.series,
      sliceCount: 312,
      sliceThicknessMm: 1,
      pixelSpacingMm: [0.68, 0.68],
      spacingBetweenSlicesMm: 1,
      coverageMm: 311,
      convolutionKernel: 'B60f',
    },
    quality: { acceptable: true, flags: [] },
    classification: {
      scheme: 'ATS/ERS/JRS/ALAT 2018 UIP',
      category: 'uip',
      confidence: 0.86,
      rationale: [
        'honeycombing 5.3% of lung, 81% of it within 10 mm of the pleura',
        'fibrosis lower zone 31.5% vs upper zone 6.2%: basal predominant',
        'subpleural fibrosis fraction 0.78',
      ],
    },
    quantities: {
      lungVolumeMl: 3820,
      meanLungDensityHu: -742,
      skewness: 1.62,
      kurtosis: 3.9,
      haaPercent: 17.4,
      laa950Percent: 2.1,
      extents: { normal: 72.2, groundGlass: 6.1, reticulation: 14.2, honeycombing: 5.3, emphysema: 1.8, consolidation: 0.4 },
      zones: { upper: { fibrosisPercent: 6.2 }, middle: { fibrosisPercent: 14.8 }, lower: { fibrosisPercent: 31.5 } },
      subpleuralFibrosisFraction: 0.78,
    },
    keyImages: [
      { sopInstanceUid: FIXTURE_UIDS.keyImage, instanceNumber: 268, sliceIndex: 267, zone: 'lower', reason: 'honeycombing' },
    ],
    timings: { startedAt: '2026-11-27T14:05:00.000Z', finishedAt: '2026-11-27T14:05:01.640Z', durationMs: 1640 },
    ...overrides,
  });
}

export function makeSource(overrides: Partial<SourceSeries> = {}): SourceSeries {
  return {
    studyInstanceUid: FIXTURE_UIDS.study,
    seriesInstanceUid: FIXTURE_UIDS.series,
    accessionNumber: 'A123',
    // DICOM DA form (YYYYMMDD), as the PACS returns it.
    studyDate: '20261002',
    acquisitionDate: '20261002',
    modality: 'CT',
    seriesDescription: 'CHEST HRCT 1.0 B60f',
    sliceCount: 312,
    sliceThicknessMm: 1,
    convolutionKernel: 'B60f',
    selection: { chosen: 'thinnest sharp-kernel axial series covering both lungs', rejected: [] },
    retrievedAt: '2026-11-27T14:03:10.000Z',
    seriesDir: '/var/ildflow/series/c-7f3a9e2b/1',
    ...overrides,
  };
}

export function makeReview(overrides: Partial<Review> = {}): Review {
  const signer = { id: 'u-rad-1', name: 'Ada Reyes, MD', npi: FIXTURE_NPI.signer };
  return {
    decision: 'accept',
    classification: { category: 'uip', rationale: ['agree: basal subpleural honeycombing'] },
    attestation: true,
    attestationText:
      'I have personally reviewed the images and the analysis result, and I agree with the report as signed.',
    signer,
    signedAt: '2026-11-27T16:30:00.000Z',
    shown: { engineId: 'reference', engineVersion: '1.0.0', resultSha256: 'a'.repeat(64) },
    addenda: [],
    ...overrides,
  };
}

/** A signed case: Medicare with a signed ABN, prior CT (0877T in global mode), accepted UIP result. */
export function makeSignedCase(overrides: Partial<Case> = {}): Case {
  return {
    id: 'c-7f3a9e2b',
    status: 'signed',
    version: 7,
    createdAt: '2026-11-27T14:00:00.000Z',
    updatedAt: '2026-11-27T16:30:00.000Z',
    attempt: 0,
    orderedBy: 'u-ord',
    order: {
      id: 'ORD-1001',
      orderedAt: '2026-11-27T09:00:00-05:00',
      priority: 'routine',
      orderingProvider: { npi: FIXTURE_NPI.orderer, name: 'Lee Park, MD' },
      indications: ['J84.10', 'R06.00'],
    },
    patient: { id: 'MRN-001', name: 'DOE^JANE', birthDate: '1961-04-02', sex: 'F' },
    requestedStudy: { studyInstanceUid: FIXTURE_UIDS.study, accessionNumber: 'A123' },
    coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: '2026-11-27' } },
    advisories: [],
    source: makeSource(),
    result: makeEngineResult(),
    review: makeReview(),
    artifacts: [
      {
        name: 'report.pdf',
        mediaType: 'application/pdf',
        sha256: '3f1c9a0b7e5d4c2a1908f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a2',
        bytes: 184_233,
        createdAt: '2026-11-27T16:30:05.000Z',
      },
    ],
    ...overrides,
  };
}
