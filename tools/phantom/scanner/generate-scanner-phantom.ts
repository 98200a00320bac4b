/**
 * A chest-CT phantom rendered like a scanner renders a patient, to validate ILD engines on something that
 * is not "one HU value per tissue plus noise" (the legacy phantom, shared/phantom/generate-phantom.ts):
 * analytic anatomy in millimetres, partial volume by supersampling, the slice sensitivity profile, an
 * in-plane Gaussian PSF, correlated stationary noise, quantisation — and two families of drawing methods
 * (`fibre`: recursive vessel trees, fibre networks, packed spherical cysts, low-pass noise; `voronoi`:
 * space-colonised trees, Voronoi walls and cysts, band-pass noise, padding outside the reconstruction
 * circle), so an engine cannot be tuned to one drawing method.
 *
 * The series is written as DICOM Part 10 (CT Image Storage, Explicit VR Little Endian) with
 * `ground-truth.json`; slices are rendered in order and written as soon as complete, so memory holds a
 * few slices, not the volume. Nothing is printed; progress goes to `onProgress`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { derivedUid } from '../../../shared/phantom/generate-phantom.js';
import { buildModel } from './model.js';
import { makeNoise } from './noise.js';
import { kernelBlur, renderSubSlice, sliceProfile, subSliceBuffers } from './render.js';
import { TruthCounter } from './truth.js';
import type { ScannerPhantomOptions, ScannerPhantomTruth } from './types.js';
import { encodeSlice } from './write-dicom.js';

export type { ScannerFamily, ScannerPhantomOptions, ScannerPhantomTruth } from './types.js';

export type ScannerPhantomResult = { dir: string; files: string[]; truth: ScannerPhantomTruth; studyInstanceUid: string; seriesInstanceUid: string };

/** HU written outside the circular field of view by the voronoi family (as many scanners do). */
export const PADDING_HU = -3024;

/** Reconstruction kernel name in the style of each family's vendor, from the PSF width. */
function kernelName(family: 'fibre' | 'voronoi', psf: number): string {
  if (family === 'fibre') return psf <= 0.45 ? 'FC86' : psf <= 0.8 ? 'FC51' : 'FC13';
  return psf <= 0.45 ? 'B70f' : psf <= 0.8 ? 'B50f' : 'B30f';
}

/** Writes the series and `ground-truth.json` into `o.dir`. */
export async function generateScannerPhantom(o: ScannerPhantomOptions): Promise<ScannerPhantomResult> {
  const ps = o.pixelSpacingMm ?? 0.7;
  const n = o.matrix ?? Math.ceil(Math.ceil(360 / ps) / 16) * 16;
  const thickness = o.sliceThicknessMm ?? 1;
  const spacing = o.sliceSpacingMm ?? Math.max(thickness, 0.6);
  const psf = o.psfSigmaMm ?? 0.6;
  const noiseHu = o.noiseHu ?? 30;
  const edge = o.edgeEnhancement ?? 0;
  if (!(edge >= 0 && edge <= 1)) throw new RangeError('scanner phantom: edgeEnhancement is 0–1');
  const rep = o.pixelRepresentation ?? 'int16';
  const ss = Math.max(1, Math.round(o.superSample ?? 3));
  const subMm = o.subSliceMm ?? 0.3;
  if (!(ps > 0) || !(thickness > 0) || !(spacing > 0) || n < 16) throw new RangeError('scanner phantom: invalid geometry');

  const model = buildModel(o.seed, o.family, o.pattern, o.lungScale);
  const dm = model.depthMap;
  const zFirst = Math.round((dm.zTop + 25) * 10) / 10; // neck above the apices …
  const slices = Math.floor((zFirst - (dm.zBottom - 30)) / spacing) + 1; // … to the upper abdomen
  const m = Math.max(1, Math.round(spacing / subMm));
  const dz = spacing / m;
  const profile = sliceProfile(thickness, dz);
  const J = (profile.length - 1) / 2;
  const x0 = (-n * ps) / 2 + ps / 2, y0 = x0;

  const studyInstanceUid = derivedUid('scanner-study', o.seed, o.family, o.pattern);
  const seriesInstanceUid = derivedUid('scanner-series', o.seed, o.family, o.pattern, ps, n, thickness, spacing, psf, noiseHu, rep, o.lungScale ?? '', subMm, ss);
  const frameOfReferenceUid = derivedUid('scanner-for', studyInstanceUid);
  await mkdir(o.dir, { recursive: true });

  const noise = makeNoise(o.family, n, noiseHu, o.seed);
  const truth = new TruthCounter();
  const buffers = subSliceBuffers(n);
  const acc = new Map<number, Float32Array>();
  const centre = new Map<number, { label: Uint8Array; side: Uint8Array }>();
  const tmp = new Float32Array(n * n);
  const wide = new Float32Array(edge > 0 ? n * n : 0);
  const hu = new Int32Array(n * n);
  const stored = rep === 'int16' ? new Int16Array(n * n) : new Uint16Array(n * n);
  const [lo, hi] = rep === 'int16' ? [-32768, 32767] : [0, 65535];
  const padStored = Math.min(hi, Math.max(lo, PADDING_HU + 1024));
  const padded = o.family === 'voronoi';
  const fovR2 = ((n * ps) / 2) ** 2;
  const files: string[] = [];
  const sex = o.seed % 2 ? 'M' : 'F';

  const finish = async (k: number): Promise<void> => {
    const img = acc.get(k)!;
    acc.delete(k);
    kernelBlur(img, n, psf / ps, edge, tmp, wide);
    noise.add(k, img);
    for (let r = 0; r < n; r++) {
      const y = y0 + r * ps;
      for (let c = 0; c < n; c++) {
        const i = r * n + c;
        const x = x0 + c * ps;
        if (padded && x * x + y * y > fovR2) {
          stored[i] = padStored;
          hu[i] = padStored - 1024;
          continue;
        }
        const s = Math.min(hi, Math.max(lo, Math.round(img[i]!) + 1024));
        stored[i] = s;
        hu[i] = s - 1024;
      }
    }
    const lab = centre.get(k)!;
    centre.delete(k);
    truth.add(k, lab.label, lab.side, hu);
    o.onSliceLabels?.(k, lab.label);
    const file = join(o.dir, `IM${String(k + 1).padStart(5, '0')}.dcm`);
    await writeFile(file, encodeSlice({
      rows: n, columns: n, pixelSpacingMm: ps, thicknessMm: thickness, spacingMm: spacing, pixels: stored, signed: rep === 'int16',
      paddingValue: padded ? padStored : undefined, instanceNumber: k + 1, slices, position: [x0, y0, zFirst - k * spacing],
      sopInstanceUid: derivedUid('scanner-sop', seriesInstanceUid, k), studyInstanceUid, seriesInstanceUid, frameOfReferenceUid,
      kernel: kernelName(o.family, psf), manufacturer: o.family === 'fibre' ? 'ILDFLOW PHANTOM F' : 'ILDFLOW PHANTOM V',
      model: o.family === 'fibre' ? 'FIBRE-1' : 'VORONOI-1',
      seriesDescription: `Scanner phantom ${o.family} ${o.pattern} ${thickness}mm`,
      patientId: `SCANPH-${o.family[0]!.toUpperCase()}${o.seed}`, patientName: 'PHANTOM^SCANNER', accession: `SP${String(o.seed).padStart(7, '0')}`,
      studyDate: '20240312', sex,
    }));
    files.push(file);
  };

  const jEnd = (slices - 1) * m + J;
  const total = jEnd + J + 1;
  for (let j = -J; j <= jEnd; j++) {
    const z = zFirst - j * dz;
    renderSubSlice(model.evaluate, z, n, ps, x0, y0, ss, buffers);
    if (j >= 0 && j % m === 0 && j / m < slices) centre.set(j / m, { label: buffers.label.slice(), side: buffers.side.slice() });
    for (let k = Math.max(0, Math.ceil((j - J) / m)); k <= Math.min(slices - 1, Math.floor((j + J) / m)); k++) {
      const w = profile[j - k * m + J]!;
      let a = acc.get(k);
      if (!a) acc.set(k, (a = new Float32Array(n * n)));
      const v = buffers.value;
      for (let i = 0; i < a.length; i++) a[i]! += w * v[i]!;
    }
    const done = j - J; // slice `done / m` has all its sub-slices once j reaches k·m + J
    if (done >= 0 && done % m === 0 && done / m < slices) await finish(done / m);
    o.onProgress?.(j + J + 1, total);
  }

  const result = truth.finish({
    family: o.family, pattern: o.pattern, seed: o.seed,
    physics: { psfSigmaMm: psf, noiseHu, sliceThicknessMm: thickness, sliceSpacingMm: spacing, pixelSpacingMm: ps, pixelRepresentation: rep, ...(edge > 0 ? { edgeEnhancement: edge } : {}) },
    size: { rows: n, columns: n, slices }, voxelMl: (ps * ps * spacing) / 1000, tractionBronchiectasis: model.tractionBronchiectasis,
  });
  await writeFile(join(o.dir, 'ground-truth.json'), JSON.stringify(result, null, 2) + '\n');
  return { dir: o.dir, files, truth: result, studyInstanceUid, seriesInstanceUid };
}
