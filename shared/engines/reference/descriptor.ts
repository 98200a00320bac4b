/** The reference engine's descriptor and declared requirements (docs/reference-engine.md, "Requirements"). */
import type { EngineDescriptor } from '../contract.js';

export const REFERENCE_DESCRIPTOR = {
  id: 'reference',
  name: 'ildflow reference quantitative CT',
  version: '1.0.0',
  vendor: 'ildflow',
  regulatory: { status: 'research' },
  requirements: {
    modality: 'CT',
    // Thin-section CT is what the 2018 ATS/ERS/JRS/ALAT guideline asks for (≤ 1.5 mm recommended); texture
    // of fine reticulation and 3–10 mm honeycomb cysts is lost to partial volume on thicker slices, so
    // 3 mm is the loosest we accept.
    maxSliceThicknessMm: 3,
    // Apex to base of an adult lung is 200–300 mm. Less than 150 mm cannot hold both an upper and a lower
    // zone, so the cranio-caudal distribution (basal predominance) cannot be judged.
    minCoverageMm: 150,
    // 150 mm at the thickest allowed contiguous 3 mm slices is 50 slices; fewer means gapped (HRCT-style
    // sampling every 10 mm) or partial coverage, and volumetric extents would be extrapolated.
    minSlices: 50,
    // The texture windows are a few millimetres wide; a 500 mm field of view on a 512 matrix (0.98 mm)
    // is the coarsest chest reconstruction in routine use.
    maxPixelSpacingMm: 1,
    // Spacing may vary by 10% (rounding of table positions); a missing slice makes it 100%.
    maxSpacingVariation: 0.1,
  },
} as const satisfies EngineDescriptor;
