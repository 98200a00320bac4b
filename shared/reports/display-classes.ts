/**
 * A per-pixel class map of ONE slice, for the colour overlay of a key image. This is a display aid: the
 * numbers in the reports are the engine's (computed in 3-D over the whole volume); this 2-D read of one
 * slice uses the reference engine's published HU thresholds (EMPHYSEMA_HU, HAA_LOW/HIGH_HU, AIR_HU) and
 * the same texture idea (local mean and standard deviation from summed-area tables), so what the physician
 * sees coloured agrees with the classes the engine counts, without re-running the engine.
 * Its thresholds are reference engine 0.2's; engine 1.0 derives its own from each scan, so the overlay
 * is only an approximation of what the engine counted until label maps replace it (issue 12).
 */
import { buildSat, floodFromBorder, windowSum } from '../engines/reference/planar.js';

// Display-only thresholds: the overlay is a 2-D approximation drawn by ildflow, not the engine's label
// map (which the engine contract does not carry yet; issue 12). They are the values of reference engine
// 0.2, kept here so the overlay is unchanged until label maps replace it.
const AIR_HU = -400;
const EMPHYSEMA_HU = -950;
const HAA_LOW_HU = -600;
const HAA_HIGH_HU = -250;
const TEXTURE_WINDOW_MM = 5;
const RETIC_MIN_STD_HU = 150;
const RETIC_MEAN_LOW_HU = -800;
const RETIC_MEAN_HIGH_HU = -200;
const CYST_HU = -900;
const CYST_NEIGHBOURHOOD_MIN_MEAN_HU = -800;
const CYST_NEIGHBOURHOOD_MIN_STD_HU = 250;
const CONSOLIDATION_HU = -100;
const CONSOLIDATION_MIN_FRACTION = 0.6;

export const DISPLAY_CLASS = { none: 0, normal: 1, groundGlass: 2, reticulation: 3, honeycombing: 4, emphysema: 5, consolidation: 6 } as const;
export type DisplayClass = (typeof DISPLAY_CLASS)[keyof typeof DISPLAY_CLASS];

/** Overlay colours (RGB) and legend labels; normal lung is left uncoloured. Colour-blind-safe hues (Okabe–Ito). */
export const CLASS_LEGEND: readonly { cls: DisplayClass; label: string; rgb: readonly [number, number, number] }[] = [
  { cls: DISPLAY_CLASS.groundGlass, label: 'Ground glass', rgb: [240, 228, 66] },
  { cls: DISPLAY_CLASS.reticulation, label: 'Reticulation', rgb: [230, 159, 0] },
  { cls: DISPLAY_CLASS.honeycombing, label: 'Honeycombing', rgb: [213, 94, 0] },
  { cls: DISPLAY_CLASS.emphysema, label: 'Emphysema', rgb: [86, 180, 233] },
  { cls: DISPLAY_CLASS.consolidation, label: 'Consolidation', rgb: [204, 121, 167] },
];

/** Body: tissue above −500 HU; everything connected to the image border below it is outside air. */
const BODY_HU = -500;
/** A pixel is lung when this share of its 5 mm window is aerated (< AIR_HU) and it is inside the body. */
const LUNG_AIR_FRACTION = 0.35;

export function classifySlice(hu: Int16Array, width: number, height: number, pixelSpacingMm: number): Uint8Array {
  const n = width * height;
  const out = new Uint8Array(n);
  // Outside air: below BODY_HU and connected to the border.
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) m[i] = hu[i]! < BODY_HU ? 1 : 0;
  floodFromBorder(m, width, height, 1, 2, new Int32Array(n));
  const r = Math.max(1, Math.round(TEXTURE_WINDOW_MM / 2 / pixelSpacingMm));
  const sat = (value: (i: number) => number) => {
    const s = new Float64Array((width + 1) * (height + 1));
    buildSat(s, width, height, value);
    return s;
  };
  const satAir = sat((i) => (m[i] !== 2 && hu[i]! < AIR_HU ? 1 : 0));
  const satSum = sat((i) => hu[i]!);
  const satSq = sat((i) => hu[i]! * hu[i]!);
  const satCyst = sat((i) => (m[i] !== 2 && hu[i]! < CYST_HU ? 1 : 0));
  const rc = r * 2;
  const satDense = sat((i) => (hu[i]! > CONSOLIDATION_HU ? 1 : 0));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (m[i] === 2) continue;
      const area = (Math.min(width, x + r + 1) - Math.max(0, x - r)) * (Math.min(height, y + r + 1) - Math.max(0, y - r));
      const air = windowSum(satAir, width, height, x, y, r) / area;
      if (air < LUNG_AIR_FRACTION) continue;
      const mean = windowSum(satSum, width, height, x, y, r) / area;
      const std = Math.sqrt(Math.max(0, windowSum(satSq, width, height, x, y, r) / area - mean * mean));
      const v = hu[i]!;
      const cysts = windowSum(satCyst, width, height, x, y, r) / area;
      let cls: DisplayClass = DISPLAY_CLASS.normal;
      if (cysts > 0.2 && mean > CYST_NEIGHBOURHOOD_MIN_MEAN_HU && std > CYST_NEIGHBOURHOOD_MIN_STD_HU) cls = DISPLAY_CLASS.honeycombing;
      else if (v < EMPHYSEMA_HU && mean < -900) cls = DISPLAY_CLASS.emphysema;
      else if (std > RETIC_MIN_STD_HU && mean > RETIC_MEAN_LOW_HU && mean < RETIC_MEAN_HIGH_HU) cls = DISPLAY_CLASS.reticulation;
      else if (v > CONSOLIDATION_HU) {
        const areaC = (Math.min(width, x + rc + 1) - Math.max(0, x - rc)) * (Math.min(height, y + rc + 1) - Math.max(0, y - rc));
        if (windowSum(satDense, width, height, x, y, rc) / areaC > CONSOLIDATION_MIN_FRACTION) cls = DISPLAY_CLASS.consolidation;
        else continue; // a vessel: not lung parenchyma, uncoloured
      } else if (v >= HAA_LOW_HU && v <= HAA_HIGH_HU && mean >= HAA_LOW_HU - 150) cls = DISPLAY_CLASS.groundGlass;
      out[i] = cls;
    }
  }
  return out;
}
