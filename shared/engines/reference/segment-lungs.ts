/**
 * Lung segmentation for the reference engine (DESIGN.md §5, step 2): air inside the body that is not the
 * outside air and not the large airways, kept as the one or two big 3D components, then per slice closed
 * and hole-filled so vessels and subpleural fibrosis are part of the lung. Linear time: every pass is a
 * flood fill, a chamfer distance transform or a threshold.
 */
import type { Volume } from '../../volume/assemble-volume.js';
import { chamferDistance, dilateSquare, floodFromBorder } from './planar.js';
import { Runs, classifyAirRuns, keepLargestComponents, paintRuns } from './runs.js';

/** Air or aerated lung: −400 HU separates aerated lung (−950…−500, ground glass up to about −400) from
 *  soft tissue (> −100); it is the usual first threshold of lung segmentation (Hu et al., IEEE TMI 2001). */
export const AIR_HU = -400;
/** The largest cross-section a trachea or main bronchus reaches (adult trachea ≈ 2–3.5 cm²); larger air
 *  regions touching the airway are lung. */
const MAX_AIRWAY_AREA_MM2 = 600;
/** Smaller air specks (noise, a single air bubble) do not start an airway. */
const MIN_AIRWAY_AREA_MM2 = 15;
/** The trachea enters the chest at the midline; its centroid lies within this fraction of the body's width
 *  from the body's centre, whereas the lung apices lie well lateral. */
const AIRWAY_MIDLINE_FRACTION = 0.12;
/** The trachea is looked for in the cranial part of the scan only. */
const AIRWAY_SEARCH_FRACTION = 0.35;
/** 3D air components this small relative to the largest are gut or oesophageal gas, not lung. */
const LUNG_COMPONENT_MIN_FRACTION = 0.1;
/** Closing radius: folds juxtapleural vessels and fine subpleural reticulation back into the lung without
 *  bridging the mediastinum (its width is several centimetres). */
export const LUNG_CLOSING_RADIUS_MM = 4;

/** Air pockets cut off from the lungs (honeycomb cysts and paraseptal emphysema are walled off in 2D and
 *  often in 3D) are lung again when they are no larger than this and lie this close to the lung in-plane,
 *  or directly under the finished lung of the slice above (basal cysts under cysts): gut gas lies below
 *  the diaphragm (≥ 5 mm of muscle and bowel wall away) and its sections are larger. */
const READMIT_DISTANCE_MM = 5;
const READMIT_MAX_AREA_MM2 = 150;
/** Rows of cysts readmitted outwards from the lung (honeycombing is one to three rows deep). */
const READMIT_ROWS = 3;
/** The pleural surface voxel mixes lung and chest wall (partial volume). A voxel touching the lung below
 *  this value holds more air than tissue — a subpleural line or the lung's rim, not muscle (+40 HU) or
 *  fat (−100 HU): it is lung. */
const PARTIAL_VOLUME_HU = -200;

// Mask values during segmentation.
const NONE = 0;
const AIR = 1; // candidate lung
const AIRWAY = 2;
const OUTSIDE = 3;
const SEEN = 4;

export type LungSegmentation = {
  /** 1 = lung, 0 = not lung (same layout as volume.hu). */
  lung: Uint8Array;
  /** Per slice, the lung's bounding box x0, y0, x1, y1 (inclusive); x1 = −1 on slices without lung. */
  boxes: Int32Array;
  airwayVoxels: number;
  components: number;
  droppedComponents: number;
  /** Pixels of walled-off air put back into the lung (honeycomb cysts, paraseptal emphysema). */
  readmittedPixels: number;
};

/** Segments the lungs; `lung` is the only whole-volume allocation (1 byte per voxel). */
export function segmentLungs(v: Volume): LungSegmentation {
  const { width: w, height: h, depth: d, hu } = v;
  const n = w * h;
  const pxArea = v.pixelSpacingMm[0] * v.pixelSpacingMm[1];
  const mask = new Uint8Array(n * d);
  const stack = new Int32Array(n);
  const prevAirway = new Uint8Array(n);
  const curAirway = new Uint8Array(n);
  let prevList = new Int32Array(n);
  let curList = new Int32Array(n);
  let prevCount = 0;
  let curCount = 0;
  const comp = new Int32Array(n);
  let airwayVoxels = 0;
  let airwayFound = false;
  const slice = new Uint8Array(n);
  const maxAirwayPx = Math.floor(MAX_AIRWAY_AREA_MM2 / pxArea);
  const sliceRuns = new Runs();
  const runOutside = [new Uint8Array(1024)];
  const rowFirst = new Int32Array(h + 1);

  for (let z = 0; z < d; z++) {
    const base = z * n;
    const seeking = !airwayFound && z < AIRWAY_SEARCH_FRACTION * d;
    if (!seeking && prevCount === 0) {
      // Not looking for the trachea and not following it: inside air is candidate lung as it stands.
      classifyAirRuns(hu, base, w, h, AIR_HU, mask.subarray(base, base + n), AIR, NONE, NONE, sliceRuns, runOutside, rowFirst);
      continue;
    }
    classifyAirRuns(hu, base, w, h, AIR_HU, slice, AIR, OUTSIDE, NONE, sliceRuns, runOutside, rowFirst);
    // Body centre (columns): the non-outside pixels' mean x (needed only while seeking the trachea).
    let bodyCount = 0, bodySumX = 0, bodyMinX = w, bodyMaxX = -1;
    for (let y = 0; seeking && y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (slice[y * w + x] !== OUTSIDE) {
          bodyCount++; bodySumX += x;
          if (x < bodyMinX) bodyMinX = x;
          if (x > bodyMaxX) bodyMaxX = x;
        }
      }
    }
    const bodyCx = bodyCount ? bodySumX / bodyCount : w / 2;
    const bodyWidth = Math.max(1, bodyMaxX - bodyMinX + 1);
    for (let k = 0; k < curCount; k++) curAirway[curList[k]!] = 0;
    curCount = 0;
    let any = false;
    // 2D components of inside air that may be airway: those under the airway of the slice above, and
    // (before the airway is found) those at the midline in the cranial part of the scan. Only these are
    // flooded — a flood that outgrows an airway is lung and stops being recorded — so the lungs
    // themselves are not labelled here.
    const tryComponent = (s: number): void => {
      if (slice[s] !== AIR) return;
      // Inside air never touches the slice border (that air is outside), so ±1 and ±w stay in the slice.
      let sp = 0, len = 0, overlap = 0;
      slice[s] = SEEN; stack[sp++] = s;
      while (sp > 0) {
        const i = stack[--sp]!;
        if (len < maxAirwayPx) comp[len] = i;
        len++;
        if (prevAirway[i]) overlap++;
        if (slice[i - 1] === AIR) { slice[i - 1] = SEEN; stack[sp++] = i - 1; }
        if (slice[i + 1] === AIR) { slice[i + 1] = SEEN; stack[sp++] = i + 1; }
        if (slice[i - w] === AIR) { slice[i - w] = SEEN; stack[sp++] = i - w; }
        if (slice[i + w] === AIR) { slice[i + w] = SEEN; stack[sp++] = i + w; }
      }
      if (len > maxAirwayPx) return; // lung (or another large air region): stays candidate lung
      const area = len * pxArea;
      let isAirway = overlap > 0;
      if (!isAirway && seeking && area >= MIN_AIRWAY_AREA_MM2) {
        let sumX = 0;
        for (let k = 0; k < len; k++) sumX += comp[k]! % w;
        isAirway = Math.abs(sumX / len - bodyCx) < AIRWAY_MIDLINE_FRACTION * bodyWidth;
      }
      if (!isAirway) return;
      for (let k = 0; k < len; k++) {
        const i = comp[k]!;
        slice[i] = AIRWAY;
        curAirway[i] = 1;
        curList[curCount++] = i;
      }
      any = true;
      airwayVoxels += len;
    };
    for (let k = 0; k < prevCount; k++) tryComponent(prevList[k]!);
    if (seeking) {
      const half = AIRWAY_MIDLINE_FRACTION * bodyWidth;
      const xa = Math.max(1, Math.ceil(bodyCx - half)), xb = Math.min(w - 2, Math.floor(bodyCx + half));
      for (let y = 1; y < h - 1; y++) for (let x = xa; x <= xb; x++) tryComponent(y * w + x);
    }
    // The mask from the same runs (outside air is not lung), then this slice's airway on top.
    paintRuns(mask.subarray(base, base + n), w, h, AIR, NONE, NONE, sliceRuns, runOutside[0]!, rowFirst);
    for (let k = 0; k < curCount; k++) mask[base + curList[k]!] = AIRWAY;
    if (any) airwayFound = true;
    // Swap: this slice's airway is the next slice's reference; clear the old one by its pixel list.
    for (let k = 0; k < prevCount; k++) prevAirway[prevList[k]!] = 0;
    for (let k = 0; k < curCount; k++) prevAirway[curList[k]!] = 1;
    [prevList, curList] = [curList, prevList];
    prevCount = curCount;
  }

  // 3D components of candidate lung: keep the largest and any of comparable size (the other lung);
  // the rest (gut gas, walled-off cysts) becomes SEEN, which readmission may still take back.
  const cc = keepLargestComponents(mask, w, h, d, AIR, SEEN, 2, LUNG_COMPONENT_MIN_FRACTION);

  // Per slice: readmission of walled-off air beside the lung, closing, hole filling and the
  // partial-volume rim, inside the lungs' bounding box plus a margin.
  const ps = (v.pixelSpacingMm[0] + v.pixelSpacingMm[1]) / 2;
  const pxArea2 = v.pixelSpacingMm[0] * v.pixelSpacingMm[1];
  const margin = Math.ceil((LUNG_CLOSING_RADIUS_MM + READMIT_DISTANCE_MM + Math.sqrt(READMIT_MAX_AREA_MM2)) / ps) + 2;
  let readmitted = 0;
  // The rectangle may reach past the image by the margin on every side.
  const rectMax = (w + 2 * margin) * (h + 2 * margin);
  const local = new Uint8Array(rectMax);
  const dist = new Float32Array(rectMax);
  const rectStack = new Int32Array(rectMax);
  const rectComp = new Int32Array(rectMax);
  const flags = new Uint8Array(rectMax);
  const closeR = Math.max(1, Math.round(LUNG_CLOSING_RADIUS_MM / ps));
  // Per slice, the final lung's bounding box [x0, y0, x1, y1]; x1 < 0 when the slice has no lung.
  const boxes = new Int32Array(4 * d).fill(-1);
  for (let z = 0; z < d; z++) {
    const base = z * n;
    let bx0 = w, by0 = h, bx1 = -1, by1 = -1;
    // Dropped air counts too: a basal slice may hold only walled-off cysts under the lung above.
    const x0 = cc.boxes[4 * z]!, y0 = cc.boxes[4 * z + 1]!, x1 = cc.boxes[4 * z + 2]!, y1 = cc.boxes[4 * z + 3]!;
    if (x1 < 0) {
      mask.fill(0, base, base + n);
      continue;
    }
    // The local rectangle may extend past the image: pixels outside it are simply not lung.
    const lx0 = x0 - margin, ly0 = y0 - margin;
    const lw = x1 - x0 + 1 + 2 * margin, lh = y1 - y0 + 1 + 2 * margin;
    let anyDropped = false;
    for (let ly = 0; ly < lh; ly++) {
      const gy = ly0 + ly;
      for (let lx = 0; lx < lw; lx++) {
        const gx = lx0 + lx;
        const m = gx >= 0 && gy >= 0 && gx < w && gy < h ? mask[base + gy * w + gx] : NONE;
        local[ly * lw + lx] = m === AIR ? 1 : m === SEEN ? DROPPED : 0;
        if (m === SEEN) anyDropped = true;
      }
    }
    // Honeycomb cysts come in rows: each pass readmits the next row out from the lung.
    for (let pass = 0, got = 1; anyDropped && got > 0 && pass < READMIT_ROWS; pass++) readmitted += got = readmit(local, lw, lh, ps, pxArea2, dist, rectStack, rectComp, z > 0 ? { mask, base: base - n, x0: lx0, y0: ly0, w, h } : null);
    // Closing = dilation then erosion with a square of half-side LUNG_CLOSING_RADIUS_MM (separable, so
    // linear whatever the radius; a square closes slightly wider gaps diagonally than a disc would).
    for (let i = 0; i < lw * lh; i++) if (local[i] !== 1) local[i] = 0;
    dilateSquare(local, lw, lh, closeR, 1, flags);
    dilateSquare(local, lw, lh, closeR, 0, flags);
    // Fill holes: background not reachable from the border is enclosed by lung (vessels, dense nodules).
    floodFromBorder(local, lw, lh, 0, 2, rectStack);
    // Partial-volume rim: outside pixels touching the lung that hold more air than tissue.
    for (let ly = 1; ly < lh - 1; ly++) {
      const gy = ly0 + ly;
      if (gy < 0 || gy >= h) continue;
      for (let lx = 1; lx < lw - 1; lx++) {
        const li = ly * lw + lx;
        if (local[li] !== 2) continue;
        const gx = lx0 + lx;
        if (gx < 0 || gx >= w || hu[base + gy * w + gx]! >= PARTIAL_VOLUME_HU) continue;
        if (local[li - 1] === 1 || local[li + 1] === 1 || local[li - lw] === 1 || local[li + lw] === 1) local[li] = RIM;
      }
    }
    for (let ly = 0; ly < lh; ly++) {
      const gy = ly0 + ly;
      if (gy < 0 || gy >= h) continue;
      for (let lx = 0; lx < lw; lx++) {
        const gx = lx0 + lx;
        if (gx < 0 || gx >= w) continue;
        const g = base + gy * w + gx;
        const isLung = local[ly * lw + lx] !== 2 && mask[g] !== AIRWAY;
        mask[g] = isLung ? 1 : 0; // RIM (3) is lung
        if (isLung) {
          if (gx < bx0) bx0 = gx;
          if (gx > bx1) bx1 = gx;
          if (gy < by0) by0 = gy;
          by1 = gy;
        }
      }
    }
    boxes[4 * z] = bx0; boxes[4 * z + 1] = by0; boxes[4 * z + 2] = bx1; boxes[4 * z + 3] = by1;
    // Anything outside the rectangle is not lung.
    const ry0 = Math.max(0, ly0), ry1 = Math.min(h, ly0 + lh), rx0 = Math.max(0, lx0), rx1 = Math.min(w, lx0 + lw);
    mask.fill(0, base, base + ry0 * w);
    mask.fill(0, base + ry1 * w, base + n);
    for (let y = ry0; y < ry1; y++) {
      mask.fill(0, base + y * w, base + y * w + rx0);
      mask.fill(0, base + y * w + rx1, base + (y + 1) * w);
    }
  }
  return { lung: mask, boxes, airwayVoxels, components: cc.components, droppedComponents: cc.dropped, readmittedPixels: readmitted };
}

/** Local mask values: dropped air awaiting a decision (and the same, seen in this pass), and the
 *  partial-volume rim (after readmission is over, so the value can be shared). */
const DROPPED = 3;
const PENDING = 5;
const RIM = 3;

/**
 * Turns DROPPED blobs of `local` that are small and close to the lung (1) into lung; the rest into 0.
 * @returns the number of pixels readmitted.
 */
function readmit(
  local: Uint8Array, lw: number, lh: number, ps: number, pxArea: number, dist: Float32Array, stack: Int32Array, comp: Int32Array,
  above: { mask: Uint8Array; base: number; x0: number; y0: number; w: number; h: number } | null,
): number {
  chamferDistance(local, 1, lw, lh, ps, dist);
  let count = 0;
  const size = lw * lh;
  for (let s = 0; s < size; s++) {
    if (local[s] !== DROPPED) continue;
    let sp = 0, len = 0, near = false;
    local[s] = SEEN; stack[sp++] = s;
    while (sp > 0) {
      const i = stack[--sp]!;
      comp[len++] = i;
      const x = i % lw;
      if (dist[i]! <= READMIT_DISTANCE_MM + ps) near = true;
      else if (above && !near) {
        // Lies under the finished lung of the slice above (a basal cyst under a cyst above it).
        const gx = above.x0 + x, gy = above.y0 + ((i - x) / lw);
        if (gx >= 0 && gy >= 0 && gx < above.w && gy < above.h && above.mask[above.base + gy * above.w + gx] === 1) near = true;
      }
      if (x > 0 && local[i - 1] === DROPPED) { local[i - 1] = SEEN; stack[sp++] = i - 1; }
      if (x < lw - 1 && local[i + 1] === DROPPED) { local[i + 1] = SEEN; stack[sp++] = i + 1; }
      if (i >= lw && local[i - lw] === DROPPED) { local[i - lw] = SEEN; stack[sp++] = i - lw; }
      if (i + lw < size && local[i + lw] === DROPPED) { local[i + lw] = SEEN; stack[sp++] = i + lw; }
    }
    const keep = near && len * pxArea <= READMIT_MAX_AREA_MM2;
    // Far but small blobs wait for the next pass (a row of cysts further out); large ones are gone.
    const rest = len * pxArea <= READMIT_MAX_AREA_MM2 ? PENDING : 0;
    for (let k = 0; k < len; k++) local[comp[k]!] = keep ? 1 : rest;
    if (keep) count += len;
  }
  for (let i = 0; i < size; i++) if (local[i] === PENDING) local[i] = DROPPED;
  return count;
}
