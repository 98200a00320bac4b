/**
 * From per-slice counts to the engine result (docs/reference-engine.md, "Summary"): extents, zones,
 * density indices from an exact integer-HU histogram, the measured scan physics, key images, quality
 * flags and the category with its rationale.
 */
import type { EngineResult, KeyImage } from '../contract.js';
import type { Volume } from '../../volume/assemble-volume.js';
import { checkRequirements } from '../requirements.js';
import { categorize } from './categorize.js';
import { CLASS, DEPTH_BIN_MM, type SliceStats } from './classify.js';
import { REFERENCE_DESCRIPTOR } from './descriptor.js';
import type { LungMask } from './lung-mask.js';
import type { ScanPhysics } from './scan-physics.js';
import { EMPHYSEMA_HU, HAA_HIGH_HU, HAA_LOW_HU, holeThreshold, lungThreshold, type Thresholds } from './thresholds.js';
import { zoneOfSlice } from './zones.js';

export type AnalysisResult = Omit<EngineResult, 'timings'>;

/** Below this the segmentation missed the lungs (or the scan is not a chest CT). */
const MIN_LUNG_VOLUME_ML = 300;
/** Inspiratory adult CT lung volumes outside 1.5–10 L suggest expiration, a child or a segmentation error. */
const PLAUSIBLE_LUNG_VOLUME_ML: readonly [number, number] = [1500, 10000];

/** Honeycomb walls are 1–3 mm (Fleischner glossary); the second layer starts below a cyst and a wall. */
const WALL_MM = 1;
/** Never less than this: shallower air is the first layer's own partial volume. */
const SECOND_LAYER_MIN_MM = 3;

function deepFraction(byDepth: readonly number[], total: number, fromMm: number): number {
  if (total <= 0) return 0;
  let deep = 0;
  byDepth.forEach((v, i) => { if ((i + 0.5) * DEPTH_BIN_MM > fromMm) deep += v; });
  return round(deep / total, 3);
}

export type SummaryInput = {
  volume: Volume;
  stats: SliceStats[];
  histogram: Float64Array;
  mask: LungMask;
  physics: ScanPhysics;
  parenchymaHu: number;
  tubeVoxels: number;
  cystDiameterMm: number;
  thresholds?: Thresholds;
};

export function summarize(s: SummaryInput): AnalysisResult {
  const { volume, stats, histogram, mask, physics } = s;
  const d = stats.length;
  const voxelMl = (volume.pixelSpacingMm[0] * volume.pixelSpacingMm[1] * volume.sliceSpacingMm) / 1000;
  const lungSlices = stats.map((x, i) => (x.lung > 0 ? i : -1)).filter((i) => i >= 0);
  const first = lungSlices[0] ?? 0, last = lungSlices[lungSlices.length - 1] ?? 0;
  const total = { lung: 0, classes: [0, 0, 0, 0, 0, 0], fibrosis: 0, fibSub: 0, hcSub: 0, hcAir: 0, hcAirByDepth: new Array<number>(80).fill(0), traction: 0, right: 0, rightFib: 0 };
  const zones = [0, 1, 2].map(() => ({ lung: 0, fibrosis: 0, shellLung: 0, shellAbn: 0, innerLung: 0, innerAbn: 0 }));
  for (let z = 0; z < d; z++) {
    const x = stats[z]!;
    if (!x.lung) continue;
    total.lung += x.lung;
    for (let c = 0; c < 6; c++) total.classes[c]! += x.classes[c]!;
    total.fibrosis += x.fibrosis; total.fibSub += x.fibrosisSubpleural; total.hcSub += x.honeycombSubpleural;
    total.hcAir += x.honeycombAir;
    x.honeycombAirByDepth.forEach((v, i) => { total.hcAirByDepth[i]! += v; }); total.traction += x.tractionTube;
    total.right += x.rightLung; total.rightFib += x.rightFibrosis;
    const zone = zones[zoneOfSlice(z, first, last)]!;
    zone.lung += x.lung; zone.fibrosis += x.fibrosis;
    zone.shellLung += x.shellLung; zone.shellAbn += x.shellAbnormal; zone.innerLung += x.innerLung; zone.innerAbn += x.innerAbnormal;
  }
  const pct = (v: number, of: number): number => (of > 0 ? round((100 * v) / of, 2) : 0);
  const extents = {
    normal: pct(total.classes[CLASS.normal]!, total.lung),
    groundGlass: pct(total.classes[CLASS.groundGlass]!, total.lung),
    reticulation: pct(total.classes[CLASS.reticulation]!, total.lung),
    honeycombing: pct(total.classes[CLASS.honeycombing]!, total.lung),
    emphysema: pct(total.classes[CLASS.emphysema]!, total.lung),
    consolidation: pct(total.classes[CLASS.consolidation]!, total.lung),
  };
  const [upper, middle, lower] = zones.map((z) => pct(z.fibrosis, z.lung)) as [number, number, number];
  const density = histogramMoments(histogram);
  const fibrosisPercent = pct(total.fibrosis, total.lung);
  const subpleuralFraction = total.fibrosis > 0 ? round(total.fibSub / total.fibrosis, 3) : 0;
  const hc = total.classes[CLASS.honeycombing]!;
  const lowerZone = zones[2]!;
  // A second layer of cysts lies below the first: deeper than one typical cyst and its wall.
  const secondLayerMm = round(Math.max(SECOND_LAYER_MIN_MM, s.cystDiameterMm + WALL_MM), 1);
  const { category, rationale } = categorize({
    fibrosisPercent, ggo: extents.groundGlass, honeycombing: extents.honeycombing,
    hcSubFraction: hc > 0 ? total.hcSub / hc : 0,
    hcDeepFraction: deepFraction(total.hcAirByDepth, total.hcAir, secondLayerMm),
    secondLayerMm,
    cystDiameterMm: s.cystDiameterMm,
    tractionMl: round(total.traction * voxelMl, 2),
    upper, middle, lower, subpleuralFraction,
    shellPct: pct(lowerZone.shellAbn, lowerZone.shellLung), innerPct: pct(lowerZone.innerAbn, lowerZone.innerLung),
    emphysema: extents.emphysema, laa950: density.laa950,
  });

  const lungVolumeMl = round(total.lung * voxelMl, 1);
  const flags: string[] = [...volume.warnings];
  const reqReasons = checkRequirements(volume.summary, REFERENCE_DESCRIPTOR.requirements);
  for (const r of reqReasons) flags.push(`requirement not met: ${r}`);
  let acceptable = reqReasons.length === 0;
  if (lungVolumeMl < MIN_LUNG_VOLUME_ML) {
    flags.push(`lungs not found or very small (${lungVolumeMl} mL segmented)`);
    acceptable = false;
  } else if (lungVolumeMl < PLAUSIBLE_LUNG_VOLUME_ML[0] || lungVolumeMl > PLAUSIBLE_LUNG_VOLUME_ML[1]) {
    flags.push(`lung volume ${lungVolumeMl} mL is outside the usual adult inspiratory range (${PLAUSIBLE_LUNG_VOLUME_ML[0]}–${PLAUSIBLE_LUNG_VOLUME_ML[1]} mL): check inspiration and segmentation`);
  }
  if (lungSlices.length && first === 0) flags.push('lung reaches the first slice: the apices may be cut off');
  if (lungSlices.length && last === d - 1) flags.push('lung reaches the last slice: the bases may be cut off');
  if (mask.airwayVoxels === 0) flags.push('central airways not tracked inside the lungs: if the trachea is a separate air region it was excluded as such; otherwise large-airway air may be counted as lung');
  if (mask.excluded.flat > 0) flags.push(`${mask.excluded.flat} mL of air in flat slabs outside the lungs excluded (patient table or mattress)`);
  if (mask.excluded.small > 0) flags.push(`${mask.excluded.small} mL of air in small regions away from the lungs excluded (gut or oesophageal gas)`);
  for (const [k, ok] of Object.entries(physics.measured)) if (!ok) flags.push(`${k} reference could not be measured on this scan; a nominal value was used`);
  const ps = (volume.pixelSpacingMm[0] + volume.pixelSpacingMm[1]) / 2;
  // A cyst is seen as air when its centre stays below the air/parenchyma half-way level after the PSF
  // and the denoising box: radius ≳ 1.18 σ (disk under a 2D Gaussian) plus the box's half-width.
  const smallestCystMm = round(2 * (1.18 * physics.psfSigmaMm + physics.denoise.radiusXY * ps), 1);
  const v = volume.summary;
  return {
    schema: 'ildflow.engine-result/1',
    engine: {
      id: REFERENCE_DESCRIPTOR.id, name: REFERENCE_DESCRIPTOR.name, version: REFERENCE_DESCRIPTOR.version,
      vendor: REFERENCE_DESCRIPTOR.vendor, regulatory: REFERENCE_DESCRIPTOR.regulatory,
    },
    input: {
      studyInstanceUid: v.studyInstanceUid, seriesInstanceUid: v.seriesInstanceUid, sliceCount: v.sliceCount,
      sliceThicknessMm: v.sliceThicknessMm, pixelSpacingMm: [v.pixelSpacingMm[0], v.pixelSpacingMm[1]],
      spacingBetweenSlicesMm: v.spacingBetweenSlicesMm, coverageMm: v.coverageMm,
      ...(v.convolutionKernel ? { convolutionKernel: v.convolutionKernel } : {}),
    },
    quality: { acceptable, flags },
    classification: { scheme: 'ATS/ERS/JRS/ALAT 2018 UIP', category, rationale },
    quantities: {
      lungVolumeMl,
      meanLungDensityHu: round(density.mean, 1),
      skewness: round(density.skewness, 3),
      kurtosis: round(density.kurtosis, 3),
      haaPercent: density.haa,
      laa950Percent: density.laa950,
      extents,
      zones: { upper: { fibrosisPercent: upper }, middle: { fibrosisPercent: middle }, lower: { fibrosisPercent: lower } },
      subpleuralFibrosisFraction: subpleuralFraction,
      lungs: {
        right: { volumeMl: round(total.right * voxelMl, 1), fibrosisPercent: pct(total.rightFib, total.right) },
        left: { volumeMl: round((total.lung - total.right) * voxelMl, 1), fibrosisPercent: pct(total.fibrosis - total.rightFib, total.lung - total.right) },
      },
    },
    scanPhysics: {
      airHu: physics.airHu,
      tissueHu: physics.tissueHu,
      parenchymaHu: round(s.parenchymaHu, 1),
      noiseSdHu: physics.noiseSdHu,
      denoisedNoiseSdHu: physics.denoisedNoiseSdHu,
      fineTextureNoiseHu: physics.fineNoiseHu,
      psfSigmaMm: physics.psfSigmaMm,
      edgeUndershoot: physics.edgeUndershoot,
      smallestVisibleCystMm: smallestCystMm,
      typicalCystMm: s.cystDiameterMm,
      thresholdsHu: {
        lung: mask.thresholdHu,
        airHole: holeThreshold(physics.airHu, s.parenchymaHu),
        emphysema: s.thresholds?.emphysema ?? EMPHYSEMA_HU,
        lungCheck: lungThreshold(s.parenchymaHu, physics.tissueHu),
      },
    },
    // No lung, no key image: a series without lungs is refused by quality, not a crash here.
    keyImages: lungSlices.length ? keyImages(volume, stats, first, last, pct) : [],
  };
}

function keyImages(volume: Volume, stats: SliceStats[], first: number, last: number, pct: (v: number, of: number) => number): KeyImage[] {
  const out: KeyImage[] = [];
  (['upper', 'middle', 'lower'] as const).forEach((zoneName, zi) => {
    let best = -1, bestFib = -1, bestLung = -1;
    for (let z = first; z <= last; z++) {
      if (zoneOfSlice(z, first, last) !== zi) continue;
      const s = stats[z]!;
      if (s.fibrosis > bestFib || (s.fibrosis === bestFib && s.lung > bestLung)) { best = z; bestFib = s.fibrosis; bestLung = s.lung; }
    }
    if (best < 0 || !stats[best]!.lung) return;
    const s = stats[best]!;
    const inst = volume.instanceNumbers[best];
    out.push({
      sopInstanceUid: volume.sopInstanceUids[best]!,
      ...(inst != null && Number.isInteger(inst) ? { instanceNumber: inst } : {}),
      sliceIndex: best,
      zone: zoneName,
      reason: s.fibrosis > 0
        ? `most fibrosis in the ${zoneName} zone: ${pct(s.fibrosis, s.lung)}% of this slice's lung`
        : `largest lung section of the ${zoneName} zone; no fibrosis detected`,
    });
  });
  return out;
}

/** HAA, LAA-950, mean, skewness and excess kurtosis of the raw lung HU, exact from integer bins. */
function histogramMoments(histogram: Float64Array): { mean: number; skewness: number; kurtosis: number; haa: number; laa950: number } {
  let count = 0, sum = 0, haa = 0, laa = 0;
  for (let b = 0; b < 65536; b++) {
    const c = histogram[b]!;
    if (!c) continue;
    const v = b - 32768;
    count += c; sum += c * v;
    if (v >= HAA_LOW_HU && v <= HAA_HIGH_HU) haa += c;
    if (v < EMPHYSEMA_HU) laa += c;
  }
  const mean = count ? sum / count : 0;
  let m2 = 0, m3 = 0, m4 = 0;
  for (let b = 0; b < 65536; b++) {
    const c = histogram[b]!;
    if (!c) continue;
    const dv = b - 32768 - mean, d2 = dv * dv;
    m2 += c * d2; m3 += c * d2 * dv; m4 += c * d2 * d2;
  }
  if (count) { m2 /= count; m3 /= count; m4 /= count; }
  return {
    mean,
    skewness: m2 > 0 ? m3 / m2 ** 1.5 : 0,
    kurtosis: m2 > 0 ? m4 / (m2 * m2) - 3 : 0, // excess (Fisher): 0 for a normal distribution
    haa: count ? round((100 * haa) / count, 2) : 0,
    laa950: count ? round((100 * laa) / count, 2) : 0,
  };
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
