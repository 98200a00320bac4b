import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateScannerPhantom, type ScannerPhantomOptions } from './generate-scanner-phantom.js';
import { buildModel } from './model.js';
import { gaussianBlur, kernelBlur, renderSubSlice, subSliceBuffers } from './render.js';
import { LABEL, type Sample } from './types.js';

// Coarse settings so the whole file runs in about a minute: 3 mm pixels over the full (384 mm)
// field, 5 mm slices integrated from 2.5 mm sub-slices, 2 × 2 sub-samples.
const COARSE = { pixelSpacingMm: 3, sliceThicknessMm: 5, subSliceMm: 2.5, superSample: 2 } as const;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-scanner-phantom-'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

let runs = 0;
const make = (o: Omit<ScannerPhantomOptions, 'dir'>) => generateScannerPhantom({ ...COARSE, ...o, dir: join(root, `p${runs++}`) });

type Img = { rows: number; columns: number; hu: Int32Array; ds: dicomParser.DataSet };
async function readSlice(file: string): Promise<Img> {
  const bytes = new Uint8Array(await readFile(file));
  const ds = dicomParser.parseDicom(bytes);
  const rows = ds.uint16('x00280010')!, columns = ds.uint16('x00280011')!;
  const signed = ds.uint16('x00280103') === 1;
  const el = ds.elements.x7fe00010!;
  const view = new DataView(bytes.buffer, bytes.byteOffset + el.dataOffset, rows * columns * 2);
  const slope = Number(ds.string('x00281053') ?? 1), intercept = Number(ds.string('x00281052'));
  const hu = new Int32Array(rows * columns);
  for (let i = 0; i < hu.length; i++) hu[i] = (signed ? view.getInt16(2 * i, true) : view.getUint16(2 * i, true)) * slope + intercept;
  return { rows, columns, hu, ds };
}

describe('generateScannerPhantom', () => {
  it('writes valid CT DICOM with the right geometry, in both pixel representations', { timeout: 120_000 }, async () => {
    for (const rep of ['int16', 'uint16'] as const) {
      const p = await make({ family: rep === 'int16' ? 'fibre' : 'voronoi', pattern: 'normal', seed: 2, pixelRepresentation: rep });
      expect(p.files).toHaveLength(p.truth.size.slices);
      expect(p.truth.size.rows).toBe(128); // ceil(360 / 3) = 120 → multiple of 16
      const a = await readSlice(p.files[0]!), b = await readSlice(p.files[1]!);
      expect(a.ds.string('x00080016')).toBe('1.2.840.10008.5.1.4.1.1.2');
      expect(a.ds.string('x00020010')).toBe('1.2.840.10008.1.2.1');
      expect(a.rows).toBe(128);
      expect(a.ds.uint16('x00280103')).toBe(rep === 'int16' ? 1 : 0);
      expect(a.ds.string('x00280030')).toBe('3\\3');
      expect(a.ds.string('x00200037')).toBe('1\\0\\0\\0\\1\\0');
      expect(Number(a.ds.string('x00180050'))).toBe(5);
      const pa = a.ds.string('x00200032')!.split('\\').map(Number), pb = b.ds.string('x00200032')!.split('\\').map(Number);
      expect(pa[0]).toBeCloseTo(-192 + 1.5, 3);
      expect(pa[2]! - pb[2]!).toBeCloseTo(5, 3); // slice 0 most cranial, +z = head
      expect(Number(a.ds.string('x00180088'))).toBe(5);
      const air = a.hu[a.columns * 64 + 1]!; // left edge, mid-height: air (or padding, voronoi)
      if (rep === 'int16') expect(air).toBeGreaterThan(-1200);
      else {
        expect(a.ds.uint16('x00280120')).toBe(0); // PixelPaddingValue, clipped to the representation
        expect(Math.min(...a.hu)).toBe(-1024);
      }
    }
  });

  it('counts truth that sums to 100 %, with an adult lung volume and the expected category per pattern', async () => {
    const expected = { normal: 'no_fibrosis', uip: 'uip', probable_uip: 'probable_uip', nsip: 'alternative_diagnosis', emphysema: 'no_fibrosis' } as const;
    for (const family of ['fibre', 'voronoi'] as const)
      for (const pattern of ['normal', 'uip', 'probable_uip', 'nsip', 'emphysema'] as const) {
        const { truth: t, dir } = await make({ family, pattern, seed: 11, noiseHu: 20 });
        expect(JSON.parse(await readFile(join(dir, 'ground-truth.json'), 'utf8'))).toEqual(t);
        const e = t.extents;
        expect(e.normal + e.groundGlass + e.reticulation + e.honeycombing + e.emphysema + e.consolidation).toBeCloseTo(100, 6);
        expect(t.expectedCategory).toBe(expected[pattern]);
        expect(t.lungVolumeMl).toBeGreaterThan(3000);
        expect(t.lungVolumeMl).toBeLessThan(6000);
        expect(t.lungs.left.volumeMl + t.lungs.right.volumeMl).toBeCloseTo(t.lungVolumeMl, 0);
        if (pattern === 'normal') expect(e.normal).toBe(100);
        if (pattern === 'uip') expect(e.honeycombing).toBeGreaterThan(0.5);
        if (pattern === 'uip' || pattern === 'probable_uip') {
          expect(e.reticulation).toBeGreaterThan(3);
          expect(t.zones.lower.fibrosisPercent).toBeGreaterThan(t.zones.upper.fibrosisPercent);
          expect(t.tractionBronchiectasis).toBe(true);
        } else expect(t.tractionBronchiectasis).toBe(false);
        if (pattern === 'probable_uip') expect(e.honeycombing).toBe(0);
        if (pattern === 'nsip') {
          expect(e.groundGlass).toBeGreaterThan(3);
          expect(t.haaPercent).toBeGreaterThan(3);
        }
        if (pattern === 'emphysema') {
          expect(e.emphysema).toBeGreaterThan(1);
          expect(t.laa950Percent).toBeGreaterThan(1);
        }
      }
  }, 120_000);

  it('is byte-for-byte deterministic', { timeout: 120_000 }, async () => {
    const a = await make({ family: 'voronoi', pattern: 'uip', seed: 5 });
    const b = await make({ family: 'voronoi', pattern: 'uip', seed: 5 });
    expect(a.truth).toEqual(b.truth);
    expect(a.seriesInstanceUid).toBe(b.seriesInstanceUid);
    const k = Math.floor(a.files.length * 0.7);
    expect(await readFile(b.files[k]!)).toEqual(await readFile(a.files[k]!));
  });

  it('has noise of the requested SD in homogeneous tissue, in both noise textures', async () => {
    for (const family of ['fibre', 'voronoi'] as const) {
      const noiseHu = 40;
      const p = await make({ family, pattern: 'normal', seed: 4, noiseHu });
      const model = buildModel(4, family, 'normal');
      const n = p.truth.size.rows, ps = 3, x0 = -192 + ps / 2;
      const s: Sample = { hu: 0, label: 0, side: 0, clear: 0 };
      let sum = 0, sum2 = 0, count = 0;
      for (let k = 0; k < p.files.length; k += 3) {
        const img = await readSlice(p.files[k]!);
        const z0 = Number(img.ds.string('x00200032')!.split('\\')[2]);
        const ref = new Float64Array(n * n);
        for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
          model.evaluate(x0 + c * ps, x0 + r * ps, z0, s);
          // Homogeneous soft tissue only (muscle +45, liver +60), far from edges (checked below).
          ref[r * n + c] = s.label === LABEL.body && (s.hu === 45 || s.hu === 60) ? s.hu : NaN;
        }
        for (let r = 3; r < n - 3; r++) for (let c = 3; c < n - 3; c++) {
          const v = ref[r * n + c]!;
          if (Number.isNaN(v)) continue;
          let flat = true;
          for (let dy = -3; dy <= 3 && flat; dy++) for (let dx = -3; dx <= 3 && flat; dx++) flat = ref[(r + dy) * n + c + dx] === v;
          if (!flat) continue;
          const d = img.hu[r * n + c]! - v;
          sum += d; sum2 += d * d; count++;
        }
      }
      expect(count).toBeGreaterThan(500);
      const sd = Math.sqrt(sum2 / count - (sum / count) ** 2);
      expect(Math.abs(sd - noiseHu) / noiseHu).toBeLessThan(0.15);
      expect(Math.abs(sum / count)).toBeLessThan(0.2 * noiseHu); // unbiased: the slice profile keeps the mean
    }
  }, 60_000);

  it('keeps the table foam core out of the lung', { timeout: 120_000 }, async () => {
    const p = await make({ family: 'fibre', pattern: 'normal', seed: 6, noiseHu: 10 });
    const model = buildModel(6, 'fibre', 'normal');
    const n = p.truth.size.rows, ps = 3, x0 = -192 + ps / 2;
    const k = Math.floor(p.files.length / 2);
    const img = await readSlice(p.files[k]!);
    const z0 = Number(img.ds.string('x00200032')!.split('\\')[2]);
    const s: Sample = { hu: 0, label: 0, side: 0, clear: 0 };
    let foam = 0, foamSum = 0;
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
      model.evaluate(x0 + c * ps, x0 + r * ps, z0, s);
      if (s.label === LABEL.table && s.hu < -850) {
        foam++;
        foamSum += img.hu[r * n + c]!;
        expect(s.side).toBe(0);
      }
    }
    expect(foam).toBeGreaterThan(200); // a 30–50 mm slab across the field of view
    expect(foamSum / foam).toBeGreaterThan(-975);
    expect(foamSum / foam).toBeLessThan(-880); // lung-like density: the trap for "any low density is lung"
  });
});

describe('scanner physics', () => {
  // One 0.3 mm fibre of tissue (+40 HU) in air, rendered at 0.7 mm pixels with 3 × 3 sub-samples.
  const fibre = (x: number, y: number, _z: number, o: Sample): void => {
    const inside = Math.abs(x - 0.13 * y - 0.21) < 0.15;
    o.hu = inside ? 40 : -1000;
    o.label = 0;
    o.side = 0;
    o.clear = Math.abs(Math.abs(x - 0.13 * y - 0.21) - 0.15);
  };
  const peak = (psf: number): number => {
    const n = 48, ps = 0.7, b = subSliceBuffers(n);
    renderSubSlice(fibre, 0, n, ps, (-n * ps) / 2 + ps / 2, (-n * ps) / 2 + ps / 2, 3, b);
    gaussianBlur(b.value, n, psf / ps, new Float32Array(n * n));
    return Math.max(...b.value);
  };

  it('renders thin structures at their partial-volume value, lowered further by a wider PSF', () => {
    const sharp = peak(0.3), smooth = peak(1.0);
    expect(sharp).toBeLessThan(-250); // never a full-tissue (+40 HU) voxel
    expect(sharp).toBeGreaterThan(-900); // but visible
    expect(smooth).toBeLessThan(sharp - 80);
  });

  it('blurs the texture of a real phantom fibre band with a smooth kernel', { timeout: 120_000 }, async () => {
    const opts = { family: 'fibre', pattern: 'probable_uip', seed: 8, noiseHu: 0, pixelSpacingMm: 1.0, matrix: 128, sliceThicknessMm: 3, subSliceMm: 1, superSample: 3 } as const;
    const a = await generateScannerPhantom({ ...opts, dir: join(root, 'psf-a'), psfSigmaMm: 0.3 });
    const b = await generateScannerPhantom({ ...opts, dir: join(root, 'psf-b'), psfSigmaMm: 1.2 });
    expect(a.truth.lungVoxels).toBeGreaterThan(0);
    // The same voxels, the same truth; only the physics differ.
    expect(b.truth.extents).toEqual(a.truth.extents);
    // Texture inside the reticular band (voxel centres the model labels reticulation): fibres blur out.
    const model = buildModel(8, 'fibre', 'probable_uip');
    const s: Sample = { hu: 0, label: 0, side: 0, clear: 0 };
    const n = 128, x0 = -64 + 0.5;
    const stats = { a: [0, 0], b: [0, 0] };
    let lung = 0;
    for (let k = 0; k < a.files.length; k += 2) {
      const ia = await readSlice(a.files[k]!), ib = await readSlice(b.files[k]!);
      const z0 = Number(ia.ds.string('x00200032')!.split('\\')[2]);
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
        model.evaluate(x0 + c, x0 + r, z0, s);
        if (s.label !== LABEL.reticulation) continue;
        lung++;
        const va = ia.hu[r * n + c]!, vb = ib.hu[r * n + c]!;
        stats.a[0]! += va; stats.a[1]! += va * va;
        stats.b[0]! += vb; stats.b[1]! += vb * vb;
      }
    }
    const sd = (q: number[]): number => Math.sqrt(q[1]! / lung - (q[0]! / lung) ** 2);
    expect(lung).toBeGreaterThan(300);
    expect(sd(stats.b)).toBeLessThan(0.8 * sd(stats.a));
  });
});

describe('the sharp kernel (edge enhancement)', () => {
  it('keeps unit gain, and makes a step overshoot on the bright side and undershoot on the dark side', () => {
    const n = 64;
    const step = () => { const img = new Float32Array(n * n); for (let r = 0; r < n; r++) for (let c = n / 2; c < n; c++) img[r * n + c] = 1000; return img; };
    const tmp = new Float32Array(n * n), wide = new Float32Array(n * n);
    const plain = step(), sharp = step();
    kernelBlur(plain, n, 1.2, 0, tmp, wide);
    kernelBlur(sharp, n, 1.2, 0.5, tmp, wide);
    const row = 32 * n;
    const sharpRow = Array.from(sharp.subarray(row, row + n)), plainRow = Array.from(plain.subarray(row, row + n));
    expect(Math.max(...plainRow)).toBeLessThanOrEqual(1000.001);
    expect(Math.min(...plainRow)).toBeGreaterThanOrEqual(-0.001);
    expect(Math.max(...sharpRow)).toBeGreaterThan(1030); // overshoot beside the edge …
    expect(Math.min(...sharpRow)).toBeLessThan(-30); // … and undershoot
    // Far from the edge both kernels give the plateau values (unit gain).
    expect(sharp[row + 2]).toBeCloseTo(0, 3);
    expect(sharp[row + n - 3]).toBeCloseTo(1000, 2);
  });
});
