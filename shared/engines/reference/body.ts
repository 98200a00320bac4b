/**
 * The body and what is outside it, slice by slice (docs/reference-engine.md, "Masks"). Air connected to
 * the image border is outside; so is the padding outside the reconstruction circle (−1024…−3024 HU on
 * many scanners), which is below any threshold used here. Everything else — the body, and the patient
 * table — is not outside; the table is told from the lungs later, by shape.
 */
import { floodFromBorder } from './planar.js';

/** Labels of the one whole-volume byte map the engine keeps (same layout as `volume.hu`). */
export const LABEL = { tissue: 0, outside: 1, air: 2, lung: 3, airway: 4 } as const;

/**
 * Half-way between air (−1000 HU) and fat (−100 HU), the least dense tissue at the skin: a voxel below
 * this and connected to the border is outside air whatever the kernel's blur (a blurred step crosses its
 * half-way level at the true edge).
 */
export const OUTSIDE_HU = -550;

/**
 * Marks one slice: `outside` for air connected to the border, `tissue` for the rest.
 * @param stack - scratch of at least w × h entries.
 */
export function markOutside(hu: Int16Array, base: number, w: number, h: number, labels: Uint8Array, stack: Int32Array): void {
  const n = w * h;
  const slice = labels.subarray(base, base + n);
  for (let i = 0; i < n; i++) slice[i] = hu[base + i]! < OUTSIDE_HU ? LABEL.air : LABEL.tissue;
  floodFromBorder(slice, w, h, LABEL.air, LABEL.outside, stack);
  // Enclosed air (lungs, airways, gut, the table's foam core) is decided later against the measured
  // lung threshold; until then it is body.
  for (let i = 0; i < n; i++) if (slice[i] === LABEL.air) slice[i] = LABEL.tissue;
}
