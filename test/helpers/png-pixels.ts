/** Decodes the PNGs ildflow writes (shared/reports/png.ts: 8-bit RGB, filter 0 on every row), for tests. */
import { inflateSync } from 'node:zlib';

export function pngPixels(png: Buffer): { width: number; height: number; rgb: Uint8Array } {
  const width = png.readUInt32BE(16), height = png.readUInt32BE(20);
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) rgb.set(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  return { width, height, rgb };
}

/** Pixel i is grey (no overlay colour blended in). */
export const isGrey = (rgb: Uint8Array, i: number): boolean => rgb[i * 3] === rgb[i * 3 + 1] && rgb[i * 3 + 1] === rgb[i * 3 + 2];

/** Pixel i carries the consolidation colour (204, 121, 167) blended into grey: red above blue above green. */
export const isConsolidation = (rgb: Uint8Array, i: number): boolean => rgb[i * 3]! > rgb[i * 3 + 2]! && rgb[i * 3 + 2]! > rgb[i * 3 + 1]!;
