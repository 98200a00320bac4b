/**
 * The engine contract (docs/design.md §5 "The engine contract"): every engine — the built-in reference engine,
 * an external HTTP engine, a container-style command — is an `IldEngine`, and every answer is validated
 * against `EngineResult` (schema `ildflow.engine-result/1`) before ildflow records it.
 */
import { z } from 'zod';

export const RESULT_SCHEMA = 'ildflow.engine-result/1' as const;

export const Category = z.enum(['uip', 'probable_uip', 'indeterminate', 'alternative_diagnosis', 'no_fibrosis']);
export type Category = z.infer<typeof Category>;

export const EngineRequirements = z.object({
  modality: z.literal('CT'),
  maxSliceThicknessMm: z.number().positive(),
  minCoverageMm: z.number().positive(),
  minSlices: z.number().int().positive(),
  maxPixelSpacingMm: z.number().positive(),
  /** Spacing between slices may vary by this fraction of the median before the volume is refused. */
  maxSpacingVariation: z.number().nonnegative(),
});
export type EngineRequirements = z.infer<typeof EngineRequirements>;

export const EngineDescriptor = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  version: z.string().min(1),
  vendor: z.string().min(1),
  regulatory: z.object({
    status: z.enum(['research', 'cleared']),
    /** e.g. an FDA 510(k) number when cleared. */
    authorization: z.string().optional(),
  }),
  requirements: EngineRequirements,
});
export type EngineDescriptor = z.infer<typeof EngineDescriptor>;

const Percent = z.number().min(0).max(100);

export const KeyImage = z.object({
  sopInstanceUid: z.string(),
  instanceNumber: z.number().int().optional(),
  /** 0-based index along the sorted volume (cranial → caudal). */
  sliceIndex: z.number().int().nonnegative(),
  zone: z.enum(['upper', 'middle', 'lower']),
  reason: z.string(),
});
export type KeyImage = z.infer<typeof KeyImage>;

export const EngineResult = z.object({
  schema: z.literal(RESULT_SCHEMA),
  engine: EngineDescriptor.omit({ requirements: true }),
  input: z.object({
    studyInstanceUid: z.string(),
    seriesInstanceUid: z.string(),
    sliceCount: z.number().int().positive(),
    sliceThicknessMm: z.number().positive(),
    pixelSpacingMm: z.tuple([z.number().positive(), z.number().positive()]),
    spacingBetweenSlicesMm: z.number().positive(),
    coverageMm: z.number().positive(),
    convolutionKernel: z.string().optional(),
  }),
  quality: z.object({ acceptable: z.boolean(), flags: z.array(z.string()) }),
  classification: z.object({
    scheme: z.literal('ATS/ERS/JRS/ALAT 2018 UIP'),
    category: Category,
    confidence: z.number().min(0).max(1).optional(),
    rationale: z.array(z.string()).min(1),
  }),
  vendorLabel: z.string().optional(),
  quantities: z.object({
    lungVolumeMl: z.number().nonnegative(),
    meanLungDensityHu: z.number(),
    skewness: z.number(),
    kurtosis: z.number(),
    haaPercent: Percent,
    laa950Percent: Percent,
    extents: z.object({
      normal: Percent,
      groundGlass: Percent,
      reticulation: Percent,
      honeycombing: Percent,
      emphysema: Percent,
      consolidation: Percent,
    }),
    zones: z.object({
      upper: z.object({ fibrosisPercent: Percent }),
      middle: z.object({ fibrosisPercent: Percent }),
      lower: z.object({ fibrosisPercent: Percent }),
    }),
    subpleuralFibrosisFraction: z.number().min(0).max(1),
    /** Per lung (patient right and left); optional, added by issue #4, so older results stay valid. */
    lungs: z
      .object({
        right: z.object({ volumeMl: z.number().nonnegative(), fibrosisPercent: Percent }),
        left: z.object({ volumeMl: z.number().nonnegative(), fibrosisPercent: Percent }),
      })
      .optional(),
  }),
  /** What the engine measured on the scan itself and derived its thresholds from (reference engine 1.0;
   *  optional, so other engines' results stay valid). */
  scanPhysics: z
    .object({
      airHu: z.number(),
      tissueHu: z.number(),
      parenchymaHu: z.number(),
      noiseSdHu: z.number(),
      denoisedNoiseSdHu: z.number(),
      fineTextureNoiseHu: z.number(),
      psfSigmaMm: z.number(),
      /** A sharp kernel's undershoot beside an edge, fraction of the step (0: a smooth kernel). */
      edgeUndershoot: z.number().optional(),
      smallestVisibleCystMm: z.number(),
      typicalCystMm: z.number(),
      thresholdsHu: z.record(z.string(), z.number()),
    })
    .optional(),
  keyImages: z.array(KeyImage),
  timings: z.object({ startedAt: z.string(), finishedAt: z.string(), durationMs: z.number().nonnegative() }),
});
export type EngineResult = z.infer<typeof EngineResult>;

/** What an engine is given: a folder of Part 10 files of one series, already checked complete. */
export type EngineInput = Readonly<{
  seriesDir: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  /**
   * Where the engine may put its label map: the class of every voxel as a DICOM Segmentation (PS3.3 A.51,
   * BINARY segments typed with the classes of label-classes.ts) referencing this series and its Frame of
   * Reference (docs/design.md §5 "Label maps"). The reference engine writes it here; the `command` adapter
   * moves the program's `seg.dcm` here, the `http` adapter the engine's SEG part or reference. Nothing
   * written means no map. ildflow checks it against the series afterwards (label-map-check.ts).
   */
  labelMapPath?: string;
  /** An adapter that cannot take the engine's label map (a reference it cannot fetch) says why here; the
   *  result stands without the map, and the case records the reason. */
  onLabelMapProblem?: (reason: string) => void;
}>;

export interface IldEngine {
  readonly descriptor: EngineDescriptor;
  analyze(input: EngineInput, signal: AbortSignal): Promise<EngineResult>;
}
