/**
 * Key images as PNG: the slice in a lung window (W 1500 / L −600 HU) with the classes of that slice
 * blended in colour (display-classes.ts). Rendered once by the report worker and kept as artifacts, so the
 * review page and the PDF show the same pixels.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyImage } from '../engines/contract.js';
import { readInstanceHeader, readSliceHu, type InstanceHeader } from '../dicom/read-instance.js';
import { InvalidDicom } from '../errors.js';
import { CLASS_LEGEND, classifySlice } from './display-classes.js';
import { encodePngRgb } from './png.js';

export const LUNG_WINDOW = { width: 1500, level: -600 } as const;
const OVERLAY_ALPHA = 0.45;

/** Maps the series' files by SOP Instance UID (headers only). Files that are not DICOM are skipped. */
export async function indexSeriesBySop(seriesDir: string): Promise<Map<string, { path: string; header: InstanceHeader }>> {
  const out = new Map<string, { path: string; header: InstanceHeader }>();
  for (const name of (await readdir(seriesDir)).sort()) {
    const path = join(seriesDir, name);
    try {
      const header = readInstanceHeader(path);
      out.set(header.sopInstanceUid, { path, header });
    } catch (err) {
      if (!(err instanceof InvalidDicom) && !(err instanceof Error && 'code' in err && err.code === 'EISDIR')) throw err;
    }
  }
  return out;
}

/** Window a HU value to 0…255 (PS3.3 C.11.2.1.2 linear VOI, simplified). */
function windowed(hu: number): number {
  const lo = LUNG_WINDOW.level - LUNG_WINDOW.width / 2;
  const v = ((hu - lo) / LUNG_WINDOW.width) * 255;
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** Renders one slice (already as HU) with its class overlay to RGB. */
export function renderOverlayRgb(hu: Int16Array, width: number, height: number, pixelSpacingMm: number, overlay = true): Uint8Array {
  const classes = overlay ? classifySlice(hu, width, height, pixelSpacingMm) : new Uint8Array(width * height);
  const colours = new Map(CLASS_LEGEND.map((l) => [l.cls as number, l.rgb]));
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const g = windowed(hu[i]!);
    const c = colours.get(classes[i]!);
    if (c) {
      rgb[i * 3] = Math.round(g * (1 - OVERLAY_ALPHA) + c[0] * OVERLAY_ALPHA);
      rgb[i * 3 + 1] = Math.round(g * (1 - OVERLAY_ALPHA) + c[1] * OVERLAY_ALPHA);
      rgb[i * 3 + 2] = Math.round(g * (1 - OVERLAY_ALPHA) + c[2] * OVERLAY_ALPHA);
    } else {
      rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = g;
    }
  }
  return rgb;
}

export type RenderedKeyImage = Readonly<{ keyImage: KeyImage; png: Buffer; width: number; height: number; sopClassUid: string }>;

/** Renders every key image found in the series; a key image whose file is missing is skipped (and reported). */
export async function renderKeyImages(
  seriesDir: string,
  keyImages: readonly KeyImage[],
): Promise<{ rendered: RenderedKeyImage[]; missing: string[]; sopClasses: Map<string, string> }> {
  const index = await indexSeriesBySop(seriesDir);
  const rendered: RenderedKeyImage[] = [];
  const missing: string[] = [];
  const sopClasses = new Map<string, string>();
  for (const k of keyImages) {
    const f = index.get(k.sopInstanceUid);
    if (!f) {
      missing.push(k.sopInstanceUid);
      continue;
    }
    const { rows, columns, pixelSpacing, sopClassUid } = f.header;
    const hu = new Int16Array(rows * columns);
    readSliceHu(f.path, f.header, hu, 0);
    const rgb = renderOverlayRgb(hu, columns, rows, pixelSpacing[1]);
    rendered.push({ keyImage: k, png: encodePngRgb(rgb, columns, rows), width: columns, height: rows, sopClassUid });
    sopClasses.set(k.sopInstanceUid, sopClassUid);
  }
  return { rendered, missing, sopClasses };
}

/** The artifact name of the n-th key image (1-based). */
export const keyImageName = (n: number): string => `key-image-${n}.png`;
