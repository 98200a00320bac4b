/**
 * Key images as PNG: the slice in a lung window (W 1500 / L −600 HU) with the classes of the engine's label
 * map on that slice blended in colour (docs/design.md §5 "Label maps": never a second opinion computed by
 * ildflow). The classes come from the SEG frames at the slice's position (geometry already checked,
 * label-map-check.ts), their colours from the one vocabulary (label-classes.ts). Without a label map the
 * slice is drawn without overlay. Rendered once by the report worker and kept as artifacts, so the review
 * page and the PDF show the same pixels.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyImage } from '../engines/contract.js';
import { readInstanceHeader, readSliceHu, type InstanceHeader } from '../dicom/read-instance.js';
import { InvalidDicom } from '../errors.js';
import { readSegFrame, readSegHeader, type SegHeader } from '../dicom/seg/read-seg.js';
import { LABEL_CLASSES } from '../engines/label-classes.js';
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

/** An engine's stored label map: the SEG file and which class each of its segment numbers is. */
export type LabelMapSource = Readonly<{ path: string; segments: readonly Readonly<{ number: number; key: string }>[] }>;

/** Overlay colours by class key (normal lung stays uncoloured). */
const COLOUR_OF: ReadonlyMap<string, readonly [number, number, number]> = new Map(
  LABEL_CLASSES.flatMap((c) => (c.rgb ? [[c.key, c.rgb] as const] : [])),
);

/**
 * Renders one slice (already as HU) to RGB, with `classes` (per pixel: the label map's segment number, 0 =
 * none) blended in the colours of `colours` (segment number → RGB).
 */
export function renderOverlayRgb(hu: Int16Array, width: number, height: number, classes?: Uint8Array, colours: ReadonlyMap<number, readonly [number, number, number]> = new Map()): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const g = windowed(hu[i]!);
    const c = classes ? colours.get(classes[i]!) : undefined;
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

/** Positions are printed as DS: the same tolerance as the geometry check. */
const SAME_POSITION_MM = 0.01;

/** The label map's segment number of every pixel of the slice at `header`'s position (0 = none). */
async function sliceClasses(map: LabelMapSource, seg: SegHeader, header: InstanceHeader): Promise<Uint8Array> {
  const out = new Uint8Array(header.rows * header.columns);
  for (const [k, f] of seg.frames.entries()) {
    if (!f.position || !f.position.every((v, i) => Math.abs(v - header.imagePositionPatient[i]!) <= SAME_POSITION_MM)) continue;
    const bits = await readSegFrame(map.path, seg, k);
    for (let i = 0; i < out.length; i++) if (bits[i]) out[i] = f.segment;
  }
  return out;
}

export type RenderedKeyImage = Readonly<{ keyImage: KeyImage; png: Buffer; width: number; height: number; sopClassUid: string }>;

/** Renders every key image found in the series; a key image whose file is missing is skipped (and reported). */
export async function renderKeyImages(
  seriesDir: string,
  keyImages: readonly KeyImage[],
  labelMap?: LabelMapSource,
): Promise<{ rendered: RenderedKeyImage[]; missing: string[]; sopClasses: Map<string, string> }> {
  const index = await indexSeriesBySop(seriesDir);
  const seg = labelMap ? await readSegHeader(labelMap.path) : undefined;
  const colours = new Map(labelMap?.segments.flatMap((s) => (COLOUR_OF.has(s.key) ? [[s.number, COLOUR_OF.get(s.key)!] as const] : [])) ?? []);
  const rendered: RenderedKeyImage[] = [];
  const missing: string[] = [];
  const sopClasses = new Map<string, string>();
  for (const k of keyImages) {
    const f = index.get(k.sopInstanceUid);
    if (!f) {
      missing.push(k.sopInstanceUid);
      continue;
    }
    const { rows, columns, sopClassUid } = f.header;
    const hu = new Int16Array(rows * columns);
    readSliceHu(f.path, f.header, hu, 0);
    const classes = labelMap && seg ? await sliceClasses(labelMap, seg, f.header) : undefined;
    const rgb = renderOverlayRgb(hu, columns, rows, classes, colours);
    rendered.push({ keyImage: k, png: encodePngRgb(rgb, columns, rows), width: columns, height: rows, sopClassUid });
    sopClasses.set(k.sopInstanceUid, sopClassUid);
  }
  return { rendered, missing, sopClasses };
}

/** The artifact name of the n-th key image (1-based). */
export const keyImageName = (n: number): string => `key-image-${n}.png`;
