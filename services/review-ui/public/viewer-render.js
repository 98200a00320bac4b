// The review viewer's pure pieces (docs/review.md "The viewer"): windowing, colouring, class shares. No DOM
// here, so the unit tests (viewer-render.test.ts) run them as the page does.

/**
 * Window presets (W/L in HU): lung W1500/L−600 and mediastinum W350/L40, the usual chest-CT settings; the
 * key images and the PDF use the same lung window (shared/reports/key-image-png.ts).
 */
export const PRESETS = Object.freeze({
  lung: Object.freeze({ width: 1500, level: -600, label: 'Lung' }),
  mediastinal: Object.freeze({ width: 350, level: 40, label: 'Mediastinal' }),
});

/** Int16 HU → index of the LUT. */
export const LUT_OFFSET = 32768;

/**
 * The linear VOI LUT of DICOM PS3.3 C.11.2.1.2.1 (Window Center c, Window Width w ≥ 1) onto 0…255:
 * x ≤ c − 0.5 − (w − 1)/2 → 0; x > c − 0.5 + (w − 1)/2 → 255; else ((x − (c − 0.5)) / (w − 1) + 0.5) × 255.
 * One entry per int16 value, so drawing a slice is one lookup per pixel.
 */
export function windowLut(width, level) {
  const w = Math.max(1, width);
  const lut = new Uint8Array(65536);
  const lo = level - 0.5 - (w - 1) / 2;
  const hi = level - 0.5 + (w - 1) / 2;
  for (let i = 0; i < 65536; i++) {
    const x = i - LUT_OFFSET;
    lut[i] = x <= lo ? 0 : x > hi ? 255 : Math.round(((x - (level - 0.5)) / Math.max(1, w - 1) + 0.5) * 255);
  }
  return lut;
}

/**
 * The overlay colour of each class value (the label slices hold the vocabulary's values, 0 = none), as
 * RGBA with A = 1 for a class shown, 0 for one hidden or uncoloured (normal lung has no colour).
 */
export function palette(classes, hidden = new Set()) {
  const p = new Uint8Array(256 * 4);
  for (const c of classes) {
    if (!c.rgb || hidden.has(c.key) || c.value < 1 || c.value > 255) continue;
    p.set([c.rgb[0], c.rgb[1], c.rgb[2], 1], c.value * 4);
  }
  return p;
}

/**
 * Draws a slice into RGBA pixels (a canvas ImageData): the windowed grey, with each shown class blended
 * in its colour at `opacity` (0…1). `labels` may be null (no label map, or the overlay is off).
 */
export function renderSlice(rgba, hu, labels, lut, pal, opacity) {
  const a = Math.min(1, Math.max(0, opacity));
  for (let i = 0, o = 0; i < hu.length; i++, o += 4) {
    const g = lut[hu[i] + LUT_OFFSET];
    const v = labels ? labels[i] * 4 : 0;
    if (v && pal[v + 3]) {
      rgba[o] = Math.round(g + (pal[v] - g) * a);
      rgba[o + 1] = Math.round(g + (pal[v + 1] - g) * a);
      rgba[o + 2] = Math.round(g + (pal[v + 2] - g) * a);
    } else {
      rgba[o] = rgba[o + 1] = rgba[o + 2] = g;
    }
    rgba[o + 3] = 255;
  }
}

/**
 * Each class's share of the slice's lung, in %: its voxels over all labelled voxels of the slice (every
 * lung voxel carries one class, normal lung included). An empty slice has no shares.
 */
export function sliceShares(row, classes) {
  const total = row.reduce((s, n) => s + n, 0);
  if (!total) return [];
  return classes.map((c, k) => ({ key: c.key, label: c.label, voxels: row[k], percent: (row[k] / total) * 100 }));
}

/** The slice with the most voxels of class column k (the first of equals); -1 when no slice has any. */
export function maxSliceOf(classCounts, k) {
  let best = -1;
  let most = 0;
  classCounts.forEach((row, z) => {
    if (row[k] > most) {
      most = row[k];
      best = z;
    }
  });
  return best;
}

/** Slice index after a move, kept inside 0…count−1. */
export const clampSlice = (z, count) => Math.min(count - 1, Math.max(0, Math.round(z)));
