/**
 * The trachea and main bronchi are air, but not lung (docs/reference-engine.md, "Masks"): left in, they
 * add tens of millilitres below −950 HU to LAA-950. Their lumen is found by its density — clearly below
 * lung parenchyma on a denoised image — and followed slice by slice from the trachea at the midline of
 * the upper chest down past the carina, a branch at a time; a branch whose section suddenly grows has
 * leaked into lung (emphysema beside a bronchus) and is not followed.
 */
import type { Volume } from '../../volume/assemble-volume.js';
import { LABEL } from './body.js';

/** Adult tracheal lumen is 1.5–2.5 cm across (≈ 2–5 cm²); a main bronchus about 1–1.5 cm. */
const AREA_MM2: readonly [number, number] = [40, 600];
/** The trachea lies at the midline: its centre within this fraction of the body's width from the centre. */
const MIDLINE_FRACTION = 0.15;
/** It is looked for in the upper part of the scan. */
const SEARCH_FRACTION = 0.4;
/** A tracked section may grow by this factor (plus a little) from one slice to the next; more is a leak. */
const GROWTH = 1.6;
const GROWTH_MM2 = 25;
/** Main bronchi: followed this far below the carina (right 2.5 cm, left about 5 cm long). */
const BELOW_CARINA_MM = 35;
/** Half-width of the denoising box for the lumen test (voxels in-plane) and along z. */
const BOX = 2;
/** The airway wall goes with the lumen (the truth of any atlas: the trachea and main bronchi, wall
 *  included, are not lung). An adult tracheal and main-bronchial wall is 1.5–2.5 mm thick. */
const WALL_MM = 2;
/** The tracked lumen edge lies inside the true one: a blurred edge from air into a thick wall reaches
 *  the lumen test's level (7 % of the way from air, half-way from air to parenchyma) 1.5 PSF σ inside it. */
const LUMEN_EDGE_PSF = 1.5;

/**
 * Relabels the central airways — lumen and wall, within LUMEN_EDGE_PSF σ + WALL_MM of the tracked lumen —
 * from `lung` or body to `airway`. @returns lung voxels relabelled.
 */
export function removeCentralAirways(volume: Volume, labels: Uint8Array, lumenHu: number, psfSigmaMm: number): number {
  const { width: w, height: h, depth: d } = volume;
  const n = w * h;
  const pxArea = volume.pixelSpacingMm[0] * volume.pixelSpacingMm[1];
  const minPx = AREA_MM2[0] / pxArea, maxPx = AREA_MM2[1] / pxArea;
  const lumen = new Uint8Array(n);
  const seen = new Uint8Array(n);
  const stack = new Int32Array(n);
  let seedZ = -1;
  let seed: Int32Array | null = null;
  let prev: Int32Array | null = null;
  for (let z = 0; z < Math.floor(SEARCH_FRACTION * d) && seedZ < 0; z++) {
    const body = bodyExtent(labels, w, h, z * n);
    if (!body) { prev = null; continue; }
    const half = MIDLINE_FRACTION * (body.x1 - body.x0 + 1);
    const rx0 = Math.max(BOX, Math.floor(body.cx - half)), rx1 = Math.min(w - 1 - BOX, Math.ceil(body.cx + half));
    lumenMask(volume, labels, z, rx0, body.y0, rx1, body.y1, lumenHu, lumen);
    let found: Int32Array | null = null;
    for (const c of components(lumen, seen, stack, w, rx0, body.y0, rx1, body.y1)) {
      if (c.length < minPx || c.length > maxPx) continue;
      let sx = 0;
      for (const i of c) sx += i % w;
      if (Math.abs(sx / c.length - body.cx) > half) continue;
      if (prev && overlaps(c, prev, w, h)) { found = c; break; }
      found ??= c;
    }
    clear(lumen, seen, rx0, body.y0, rx1, body.y1, w);
    if (found && prev && overlaps(found, prev, w, h)) { seedZ = z; seed = found; }
    prev = found;
  }
  if (seedZ < 0 || !seed) return 0;
  const airway: Int32Array[][] = Array.from({ length: d }, () => []);
  airway[seedZ] = [seed];
  track(-1);
  track(1);
  let count = 0;
  const rim = (LUMEN_EDGE_PSF * psfSigmaMm + WALL_MM) / volume.pixelSpacingMm[0];
  const r = Math.ceil(rim);
  for (let z = 0; z < d; z++) {
    const base = z * n;
    for (const c of airway[z]!) {
      for (const i of c) {
        const y = Math.floor(i / w), x = i % w;
        for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
          for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) {
            if ((xx - x) ** 2 + (yy - y) ** 2 > rim * rim) continue;
            const j = base + yy * w + xx;
            if (labels[j] === LABEL.lung) { labels[j] = LABEL.airway; count++; }
            else if (labels[j] === LABEL.tissue) labels[j] = LABEL.airway;
          }
        }
      }
    }
  }
  return count;

  function track(dir: 1 | -1): void {
    let z = seedZ;
    let carinaZ = -1;
    const limit = Math.round(BELOW_CARINA_MM / volume.sliceSpacingMm);
    for (;;) {
      const cur = airway[z]!;
      const next = z + dir;
      if (next < 0 || next >= d || cur.length === 0) return;
      if (carinaZ >= 0 && Math.abs(next - carinaZ) > limit) return;
      let area = 0, bx0 = w, by0 = h, bx1 = 0, by1 = 0;
      for (const c of cur) {
        area += c.length;
        for (const i of c) { const x = i % w, y = Math.floor(i / w); bx0 = Math.min(bx0, x); bx1 = Math.max(bx1, x); by0 = Math.min(by0, y); by1 = Math.max(by1, y); }
      }
      const m = Math.round(10 / volume.pixelSpacingMm[0]);
      const rx0 = Math.max(BOX, bx0 - m), rx1 = Math.min(w - 1 - BOX, bx1 + m), ry0 = Math.max(BOX, by0 - m), ry1 = Math.min(h - 1 - BOX, by1 + m);
      lumenMask(volume, labels, next, rx0, ry0, rx1, ry1, lumenHu, lumen);
      const mark = new Uint8Array(n);
      for (const c of cur) for (const i of c) mark[i] = 1;
      const accepted: Int32Array[] = [];
      for (const c of components(lumen, seen, stack, w, rx0, ry0, rx1, ry1)) {
        let touches = false;
        for (const i of c) if (mark[i]) { touches = true; break; }
        if (!touches) continue;
        if (c.length > Math.min(maxPx, GROWTH * area + GROWTH_MM2 / pxArea)) continue; // leaked into lung
        accepted.push(c);
      }
      clear(lumen, seen, rx0, ry0, rx1, ry1, w);
      airway[next] = accepted;
      if (dir === 1 && carinaZ < 0 && accepted.length >= 2) carinaZ = next;
      z = next;
    }
  }
}

type Extent = { x0: number; x1: number; y0: number; y1: number; cx: number };

function bodyExtent(labels: Uint8Array, w: number, h: number, base: number): Extent | null {
  let x0 = w, x1 = -1, y0 = h, y1 = -1, sx = 0, cnt = 0;
  for (let y = 0; y < h; y += 2) {
    const o = base + y * w;
    for (let x = 0; x < w; x += 2) {
      if (labels[o + x] === LABEL.outside) continue;
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; y1 = y;
      sx += x; cnt++;
    }
  }
  return cnt ? { x0, x1, y0: Math.max(BOX, y0), y1: Math.min(h - 1 - BOX, y1), cx: sx / cnt } : null;
}

/** lumen[i] = 1 where the (2·BOX+1)² × 3-slice mean is below `lumenHu` and the voxel is not outside. */
function lumenMask(volume: Volume, labels: Uint8Array, z: number, x0: number, y0: number, x1: number, y1: number, lumenHu: number, out: Uint8Array): void {
  const { width: w, height: h, depth: d, hu } = volume;
  const n = w * h;
  const zs = [z - 1, z, z + 1].filter((k) => k >= 0 && k < d);
  const cells = (2 * BOX + 1) ** 2 * zs.length;
  for (let y = Math.max(BOX, y0); y <= Math.min(h - 1 - BOX, y1); y++) {
    for (let x = Math.max(BOX, x0); x <= Math.min(w - 1 - BOX, x1); x++) {
      const i = y * w + x;
      if (labels[z * n + i] === LABEL.outside || hu[z * n + i]! >= lumenHu + 200) continue;
      let s = 0;
      for (const k of zs) {
        const b = k * n;
        for (let dy = -BOX; dy <= BOX; dy++) {
          const o = b + (y + dy) * w + x;
          for (let dx = -BOX; dx <= BOX; dx++) s += hu[o + dx]!;
        }
      }
      if (s < lumenHu * cells) out[i] = 1;
    }
  }
}

function components(m: Uint8Array, seen: Uint8Array, stack: Int32Array, w: number, x0: number, y0: number, x1: number, y1: number): Int32Array[] {
  const out: Int32Array[] = [];
  const buf: number[] = [];
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const s = y * w + x;
      if (!m[s] || seen[s]) continue;
      buf.length = 0;
      let sp = 0;
      seen[s] = 1; stack[sp++] = s;
      while (sp > 0) {
        const i = stack[--sp]!;
        buf.push(i);
        const ix = i % w, iy = Math.floor(i / w);
        if (ix > x0 && m[i - 1] && !seen[i - 1]) { seen[i - 1] = 1; stack[sp++] = i - 1; }
        if (ix < x1 && m[i + 1] && !seen[i + 1]) { seen[i + 1] = 1; stack[sp++] = i + 1; }
        if (iy > y0 && m[i - w] && !seen[i - w]) { seen[i - w] = 1; stack[sp++] = i - w; }
        if (iy < y1 && m[i + w] && !seen[i + w]) { seen[i + w] = 1; stack[sp++] = i + w; }
      }
      out.push(Int32Array.from(buf));
    }
  }
  return out;
}

function overlaps(a: Int32Array, b: Int32Array, _w: number, _h: number): boolean {
  const set = new Set<number>(b);
  for (const i of a) if (set.has(i)) return true;
  return false;
}

function clear(m: Uint8Array, seen: Uint8Array, x0: number, y0: number, x1: number, y1: number, w: number): void {
  for (let y = y0; y <= y1; y++) { m.fill(0, y * w + x0, y * w + x1 + 1); seen.fill(0, y * w + x0, y * w + x1 + 1); }
}
