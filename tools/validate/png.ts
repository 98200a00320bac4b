/**
 * A minimal RGB raster with lines, markers and a 5×7 bitmap font, and a PNG encoder on node:zlib
 * (PNG 1.2: 8-bit truecolour, no interlace, filter 0 on every row) — enough for the validation plots
 * without a drawing dependency.
 */
import { encodePngRgb } from '../../shared/reports/png.js';

export type Rgb = readonly [number, number, number];

/** 5×7 glyphs, one string of 7 rows × 5 columns each; lower-case text is drawn in upper case. */
const GLYPHS: Record<string, string> = {
  '0': '01110100011001110101110011000101110', '1': '00100011000010000100001000010001110',
  '2': '01110100010000100010001000100011111', '3': '11111000100010000010000011000101110',
  '4': '00010001100101010010111110001000010', '5': '11111100001111000001000011000101110',
  '6': '00110010001000011110100011000101110', '7': '11111000010001000100010000100001000',
  '8': '01110100011000101110100011000101110', '9': '01110100011000101111000010001001100',
  A: '01110100011000111111100011000110001', B: '11110100011000111110100011000111110',
  C: '01110100011000010000100001000101110', D: '11100100101000110001100011001011100',
  E: '11111100001000011110100001000011111', F: '11111100001000011110100001000010000',
  G: '01110100011000010111100011000101111', H: '10001100011000111111100011000110001',
  I: '01110001000010000100001000010001110', J: '00111000100001000010000101001001100',
  K: '10001100101010011000101001001010001', L: '10000100001000010000100001000011111',
  M: '10001110111010110101100011000110001', N: '10001100011100110101100111000110001',
  O: '01110100011000110001100011000101110', P: '11110100011000111110100001000010000',
  Q: '01110100011000110001101011001001101', R: '11110100011000111110101001001010001',
  S: '01111100001000001110000010000111110', T: '11111001000010000100001000010000100',
  U: '10001100011000110001100011000101110', V: '10001100011000110001100010101000100',
  W: '10001100011000110101101011010101010', X: '10001100010101000100010101000110001',
  Y: '10001100011000101010001000010000100', Z: '11111000010001000100010001000011111',
  '.': '00000000000000000000000000110001100', '-': '00000000000000011111000000000000000',
  '−': '00000000000000011111000000000000000', '+': '00000001000010011111001000010000000',
  '%': '11000110010001000100010001001100011', '(': '00010001000100001000010000010000010',
  ')': '01000001000001000010000100010001000', '/': '00000000010001000100010001000000000',
  ':': '00000011000110000000011000110000000', '=': '00000000001111100000111110000000000',
  ',': '00000000000000000000011000010001000', '|': '00100001000010000100001000010000100',
  '<': '00010001000100010000010000010000010', '>': '01000001000001000001000100010001000',
  ' ': '00000000000000000000000000000000000', σ: '00000000000111110010100101001001100',
};

export class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number, bg: Rgb = [255, 255, 255]) {
    this.data = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.data.set(bg, i * 3);
  }

  set(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.data.set(c, (y * this.width + x) * 3);
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = Math.round(y); j < Math.round(y + h); j++) for (let i = Math.round(x); i < Math.round(x + w); i++) this.set(i, j, c);
  }

  /** A line `width` pixels wide; `dash` = [on, off] lengths in pixels along the line. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, width = 1, dash?: readonly [number, number]): void {
    const len = Math.hypot(x1 - x0, y1 - y0);
    const steps = Math.max(1, Math.ceil(len * 2));
    const r = (width - 1) / 2;
    for (let s = 0; s <= steps; s++) {
      const t = s / steps;
      if (dash && (t * len) % (dash[0] + dash[1]) >= dash[0]) continue;
      const x = x0 + (x1 - x0) * t;
      const y = y0 + (y1 - y0) * t;
      if (r <= 0) this.set(x, y, c);
      else this.fillRect(x - r, y - r, width, width, c);
    }
  }

  marker(shape: 'circle' | 'square' | 'triangle', x: number, y: number, c: Rgb, size = 4): void {
    for (let j = -size; j <= size; j++) {
      for (let i = -size; i <= size; i++) {
        const inside =
          shape === 'circle' ? i * i + j * j <= size * size
            : shape === 'square' ? Math.abs(i) <= size - 1 && Math.abs(j) <= size - 1
              : j >= -size && Math.abs(i) <= (j + size) / 2; // apex up
        if (inside) this.set(x + i, y + j, c);
      }
    }
  }

  /** Text with its top-left corner at (x, y); each font pixel is `scale` × `scale`. Returns the width. */
  text(s: string, x: number, y: number, c: Rgb = [0, 0, 0], scale = 2): number {
    let cx = x;
    for (const ch of s) {
      const g = GLYPHS[ch] ?? GLYPHS[ch.toUpperCase()] ?? GLYPHS['?'] ?? GLYPHS[' ']!;
      for (let row = 0; row < 7; row++) for (let col = 0; col < 5; col++) if (g[row * 5 + col] === '1') this.fillRect(cx + col * scale, y + row * scale, scale, scale, c);
      cx += 6 * scale;
    }
    return cx - x;
  }

  static textWidth(s: string, scale = 2): number {
    return [...s].length * 6 * scale;
  }

  /** Text rotated 90° anticlockwise (reads bottom to top), its glyphs' top at column x, starting at y. */
  textUp(s: string, x: number, y: number, c: Rgb = [0, 0, 0], scale = 2): void {
    let cy = y;
    for (const ch of s) {
      const g = GLYPHS[ch] ?? GLYPHS[ch.toUpperCase()] ?? GLYPHS[' ']!;
      for (let row = 0; row < 7; row++) for (let col = 0; col < 5; col++) if (g[row * 5 + col] === '1') this.fillRect(x + row * scale, cy - col * scale, scale, scale, c);
      cy -= 6 * scale;
    }
  }

  png(): Buffer {
    return encodePng(this.width, this.height, this.data);
  }
}

/** PNG of 8-bit RGB pixels, rows top to bottom: the encoder the reports already use. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  return encodePngRgb(rgb, width, height);
}
