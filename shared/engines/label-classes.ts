/**
 * The one vocabulary of the classes an engine's label map holds (docs/design.md §5 "The engine contract",
 * "Label maps"): for each class its key in `EngineResult.quantities.extents`, its display text, its overlay
 * colour, and the coded concepts a DICOM Segmentation carries for it (PS3.3 C.8.20.2 Segment Sequence:
 * Segmented Property Category and Type, from CID 7150 and the CIDs CID 7151 points to). The SEG writer and
 * reader, the SR's per-class measurement groups and the key-image overlay all read this table.
 *
 * Segment numbers are the reference engine's class index + 1 (its class map holds class + 1 per lung voxel,
 * 0 outside the lungs), so the map and the SEG's segments line up one to one.
 *
 * Codes (none invented):
 * - Category: CID 7150 (91723000, SCT, "Anatomical Structure") for normal lung, (49755003, SCT,
 *   "Morphologically Abnormal Structure") for every finding.
 * - Ground glass: (112120, DCM, "Ground glass opacity"), CID 6104 Abnormal Opacity Finding or Feature.
 * - Reticulation: (112113, DCM, "Reticular pattern"), CID 6103 Abnormal Lines Finding or Feature.
 * - Honeycombing: (112106, DCM, "Honeycomb pattern"), CID 6103.
 * - Emphysema: (87433001, SCT, "Pulmonary emphysema").
 * - Consolidation: (95436008, SCT, "Lung consolidation").
 * - Normal lung: no SNOMED CT or DCM concept for "normal lung parenchyma" was found; the segment is typed
 *   as the organ, (39607008, SCT, "Lung"), and labelled "Normal lung" (SegmentLabel), which is what it
 *   holds: the lung voxels no abnormal class claimed.
 */
import type { EngineResult } from './contract.js';

export type CodedConcept = Readonly<{ value: string; scheme: 'SCT' | 'DCM'; meaning: string }>;
export type ClassKey = keyof EngineResult['quantities']['extents'];

export type LabelClass = Readonly<{
  key: ClassKey;
  /** The SEG's Segment Number and the class map's value (class index + 1). */
  segmentNumber: number;
  label: string;
  /** The class's extent (% of lung) as FHIR and HL7 name it (Observation id, OBX-3 code). */
  extentId: string;
  /** The same in the SR's local coding scheme (99ILDFLOW; no standard code names "extent of X in lung"). */
  srExtentCode: string;
  category: CodedConcept;
  type: CodedConcept;
  /** Overlay colour (sRGB); null: not coloured on the key images (normal lung). Okabe–Ito, colour-blind safe. */
  rgb: readonly [number, number, number] | null;
}>;

const ANATOMY: CodedConcept = { value: '91723000', scheme: 'SCT', meaning: 'Anatomical Structure' };
const ABNORMAL: CodedConcept = { value: '49755003', scheme: 'SCT', meaning: 'Morphologically Abnormal Structure' };

/** In the reference engine's class order (classify.ts CLASS): normal, ground glass, …, consolidation. */
export const LABEL_CLASSES: readonly LabelClass[] = [
  { key: 'normal', segmentNumber: 1, label: 'Normal lung', extentId: 'normal-extent', srExtentCode: 'NORM-EXT', category: ANATOMY, type: { value: '39607008', scheme: 'SCT', meaning: 'Lung' }, rgb: null },
  { key: 'groundGlass', segmentNumber: 2, label: 'Ground glass', extentId: 'ground-glass-extent', srExtentCode: 'GGO-EXT', category: ABNORMAL, type: { value: '112120', scheme: 'DCM', meaning: 'Ground glass opacity' }, rgb: [240, 228, 66] },
  { key: 'reticulation', segmentNumber: 3, label: 'Reticulation', extentId: 'reticulation-extent', srExtentCode: 'RET-EXT', category: ABNORMAL, type: { value: '112113', scheme: 'DCM', meaning: 'Reticular pattern' }, rgb: [230, 159, 0] },
  { key: 'honeycombing', segmentNumber: 4, label: 'Honeycombing', extentId: 'honeycombing-extent', srExtentCode: 'HC-EXT', category: ABNORMAL, type: { value: '112106', scheme: 'DCM', meaning: 'Honeycomb pattern' }, rgb: [213, 94, 0] },
  { key: 'emphysema', segmentNumber: 5, label: 'Emphysema', extentId: 'emphysema-extent', srExtentCode: 'EMPH-EXT', category: ABNORMAL, type: { value: '87433001', scheme: 'SCT', meaning: 'Pulmonary emphysema' }, rgb: [86, 180, 233] },
  { key: 'consolidation', segmentNumber: 6, label: 'Consolidation', extentId: 'consolidation-extent', srExtentCode: 'CONS-EXT', category: ABNORMAL, type: { value: '95436008', scheme: 'SCT', meaning: 'Lung consolidation' }, rgb: [204, 121, 167] },
];

/** The order in which the reports list the extents: the fibrotic patterns first, normal lung last. */
export const EXTENT_ORDER: readonly LabelClass[] = (['honeycombing', 'reticulation', 'groundGlass', 'emphysema', 'consolidation', 'normal'] as const).map(
  (k) => LABEL_CLASSES.find((c) => c.key === k)!,
);

const sameCode = (a: CodedConcept, b: { value: string; scheme: string }): boolean => a.value === b.value && a.scheme === b.scheme;

/** The class a segment's Segmented Property Type names, or undefined for a concept outside the vocabulary. */
export function classOfType(type: { value: string; scheme: string }): LabelClass | undefined {
  return LABEL_CLASSES.find((c) => sameCode(c.type, type));
}
