import { describe, expect, it } from 'vitest';
import { LABEL_CLASSES } from '../../shared/engines/label-classes.js';
import { VIEWER_CLASSES } from '../api/cases/viewer.js';
import { LUT_OFFSET, PRESETS, clampSlice, maxSliceOf, palette, renderSlice, sliceShares, windowLut } from './public/viewer-render.js';

const at = (lut: Uint8Array, hu: number) => lut[hu + LUT_OFFSET];

describe('windowLut (DICOM PS3.3 C.11.2.1.2.1 linear VOI LUT)', () => {
  it('maps the lung window W1500/L−600: −1350 HU and below black, above 150 HU white, the level mid-grey', () => {
    const lut = windowLut(PRESETS.lung.width, PRESETS.lung.level);
    expect(at(lut, -2000)).toBe(0);
    expect(at(lut, -1350)).toBe(0);
    expect(at(lut, 151)).toBe(255);
    expect(at(lut, -600)).toBe(128);
    for (let hu = -1400; hu < 200; hu++) expect(at(lut, hu + 1)).toBeGreaterThanOrEqual(at(lut, hu)!); // monotonic
  });

  it('maps the mediastinal window W350/L40: fat (−100 HU) dark, muscle (50 HU) mid, bone (700 HU) white, lung black', () => {
    const lut = windowLut(PRESETS.mediastinal.width, PRESETS.mediastinal.level);
    expect(at(lut, -850)).toBe(0);
    expect(at(lut, -100)).toBeLessThan(40);
    expect(at(lut, 50)).toBeGreaterThan(128);
    expect(at(lut, 50)).toBeLessThan(150);
    expect(at(lut, 700)).toBe(255);
  });

  it('follows the standard’s formula exactly inside the window, and survives a width of 1', () => {
    const lut = windowLut(400, 40);
    for (const x of [-150, -50, 0, 40, 100, 230]) expect(at(lut, x)).toBe(Math.round(((x - 39.5) / 399 + 0.5) * 255));
    const hard = windowLut(1, 0);
    expect(at(hard, -1)).toBe(0);
    expect(at(hard, 0)).toBe(255);
  });
});

describe('the viewer vocabulary', () => {
  it('is the one table (shared/engines/label-classes.ts), as the API serves it', () => {
    expect(VIEWER_CLASSES.map((c) => [c.key, c.label, c.value, c.rgb])).toEqual(LABEL_CLASSES.map((l) => [l.key, l.label, l.segmentNumber, l.rgb]));
  });
});

describe('renderSlice', () => {
  const lut = windowLut(1500, -600);
  const hu = Int16Array.from([-1000, -600, 200, -600]);
  const labels = Uint8Array.from([0, 6, 6, 1]); // consolidation twice, normal lung once

  it('draws grey where no shown class is, and blends a class in its colour at the opacity', () => {
    const rgba = new Uint8Array(16);
    renderSlice(rgba, hu, labels, lut, palette(VIEWER_CLASSES), 1);
    expect([...rgba.subarray(0, 4)]).toEqual([at(lut, -1000), at(lut, -1000), at(lut, -1000), 255]);
    expect([...rgba.subarray(4, 8)]).toEqual([204, 121, 167, 255]); // consolidation, opaque
    expect([...rgba.subarray(12, 16)]).toEqual([128, 128, 128, 255]); // normal lung is not coloured
    renderSlice(rgba, hu, labels, lut, palette(VIEWER_CLASSES), 0.5);
    expect(rgba[4]).toBe(Math.round(128 + (204 - 128) * 0.5));
  });

  it('leaves the image grey with the overlay off or the class hidden', () => {
    for (const [l, pal] of [
      [null, palette(VIEWER_CLASSES)],
      [labels, palette(VIEWER_CLASSES, new Set(['consolidation']))],
    ] as const) {
      const rgba = new Uint8Array(16);
      renderSlice(rgba, hu, l, lut, pal, 0.6);
      for (let i = 0; i < 4; i++) expect(rgba[i * 4]).toBe(rgba[i * 4 + 1]);
    }
  });
});

describe('sliceShares and maxSliceOf', () => {
  const classes = VIEWER_CLASSES.slice(0, 3);
  it('gives each class’s share of the slice’s lung voxels, and none on a slice without lung', () => {
    expect(sliceShares([60, 30, 10], classes).map((s) => s.percent)).toEqual([60, 30, 10]);
    expect(sliceShares([0, 0, 0], classes)).toEqual([]);
  });
  it('finds the slice with the most of a class, or −1 when no slice has it', () => {
    const counts = [[5, 0, 1], [2, 0, 9], [7, 0, 9]];
    expect(maxSliceOf(counts, 0)).toBe(2);
    expect(maxSliceOf(counts, 2)).toBe(1);
    expect(maxSliceOf(counts, 1)).toBe(-1);
  });
  it('keeps a slice move inside the series', () => {
    expect(clampSlice(-3, 10)).toBe(0);
    expect(clampSlice(12, 10)).toBe(9);
    expect(clampSlice(4.4, 10)).toBe(4);
  });
});
