/**
 * The reference engine's analysis (DESIGN.md §5 "The reference engine"): a deterministic, explainable
 * quantitative CT read of a HU volume. Every threshold is a named constant with the reason for its value.
 * Pure: no I/O, no clock; the same volume always gives the same result.
 */
import type { EngineResult, KeyImage, Category } from '../contract.js';
import type { Volume } from '../../volume/assemble-volume.js';
import { zoneOfSlice } from './zones.js';
import { chamferDistance } from './planar.js';
import { segmentLungs } from './segment-lungs.js';
import { REFERENCE_DESCRIPTOR } from './descriptor.js';
import { checkRequirements } from '../requirements.js';

// ── Voxel classes (DESIGN.md §5 step 4) ──────────────────────────────────────────────────────────────
/** Emphysema: the LAA-950 threshold validated against pathology (Gevenois et al., AJRCCM 1996). */
export const EMPHYSEMA_HU = -950;
/** HAA range (−600…−250 HU), the high-attenuation-area index of Podolanczuk et al. (MESA, 2016). */
export const HAA_LOW_HU = -600;
export const HAA_HIGH_HU = -250;
/** Side of the square window for local mean and standard deviation: a few mm, about one secondary lobule
 *  fraction, so the fine lines of reticulation (1–3 mm apart) fall inside one window. */
export const TEXTURE_WINDOW_MM = 5;
/** Ground glass: hazy increase in attenuation that does not obscure vessels, about −750…−400 HU
 *  (Fleischner glossary, Hansell 2008; quantitative ranges as in CALIPER-like tools). The window mean may
 *  go down to −800 HU so the edge of a patch (half ground glass, half normal lung: about −740 HU) is still
 *  ground glass; the voxel test below keeps the normal half out. */
const GGO_MEAN_LOW_HU = -800;
const GGO_MEAN_HIGH_HU = -350;
/** The voxel itself must be in the hazy range too, so ground glass does not bleed into normal lung
 *  through the window. Normal lung sits around −850 HU. */
const GGO_VOXEL_LOW_HU = -800;
const GGO_VOXEL_HIGH_HU = -300;
/** Ground glass stays ground glass beside a vessel (which makes its window textured) as long as the window
 *  holds almost no fine-line voxels; more than this share of them is the edge of reticulation. */
const GGO_MAX_LINE_FRACTION = 0.05;
/** Local standard deviation above which a neighbourhood is textured (fine lines) rather than smooth:
 *  image noise in lung on a sharp kernel is 20–60 HU, reticulation mixes −800 HU air with −300…0 HU lines
 *  (SD 200–250 HU). The edge of a smooth ground-glass patch against normal lung (−620 vs −860 HU) reaches
 *  at most half that difference, 120 HU, plus noise; 150 HU keeps such edges out of reticulation. */
export const RETIC_MIN_STD_HU = 150;
/** Reticulation: neighbourhood mean in the interstitial range, between aerated lung and soft tissue. */
export const RETIC_MEAN_LOW_HU = -800;
export const RETIC_MEAN_HIGH_HU = -200;
/** Partial-volume lines: voxels between aerated lung and soft tissue, denser than ground glass (whose
 *  bulk lies below −500 HU). A vessel beside normal lung has a one-voxel rim of these at most;
 *  reticulation has them throughout, so this separates the two; the edge of consolidation against ground
 *  glass has none, so it is not mistaken for lines either. */
const INTERMEDIATE_LOW_HU = -500;
const INTERMEDIATE_HIGH_HU = -150;
/** Fine lines fill 40–50 % of a reticular window; a voxel is reticulation when its window is at least
 *  about half reticular, so the band's edges are counted symmetrically (not shaved off). */
const RETIC_MIN_INTERMEDIATE_FRACTION = 0.2;
/** Honeycomb cyst air: clearly below aerated lung. */
export const CYST_HU = -900;
/** Cyst neighbourhoods contain dense walls (mean well above emphysema's −950 and normal lung's −850) and
 *  are strongly textured; emphysema lacks walls. */
export const CYST_NEIGHBOURHOOD_MIN_MEAN_HU = -800;
export const CYST_NEIGHBOURHOOD_MIN_STD_HU = 250;
/** Honeycombing is subpleural (Fleischner glossary): clustered cysts within this depth of the pleura. */
const HONEYCOMB_MAX_DEPTH_MM = 12;
/** A voxel belongs to a honeycomb cluster (cysts and their walls) when this share of its window is cyst:
 *  cysts fill 50–70 % of honeycombing, so 0.3 is "at least half the window is honeycomb", which keeps the
 *  reticulation beside the cyst rows from being swallowed by the cluster. */
const HONEYCOMB_CLUSTER_FRACTION = 0.3;
/** Consolidation: soft-tissue attenuation (> −100 HU) filling most of a 10 mm neighbourhood; vessels are
 *  tubes a few mm wide and do not fill it. */
export const CONSOLIDATION_HU = -100;
const CONSOLIDATION_WINDOW_MM = 10;
export const CONSOLIDATION_MIN_FRACTION = 0.6;

// ── Distribution and category (DESIGN.md §5 step 5; Raghu et al., AJRCCM 2018; Lynch et al., Lancet
//    Respir Med 2018 — Fleischner) ────────────────────────────────────────────────────────────────────
/** Subpleural band: the outer 15 mm of lung, where UIP begins. */
const SUBPLEURAL_DEPTH_MM = 15;
/** Fibrosis (reticulation + honeycombing) below this share of the lung is within what vessels, dependent
 *  density and noise produce in normal lungs on the phantoms: no fibrosis. */
const FIBROSIS_FLOOR_PERCENT = 3;
/** Ground glass below this share is not a pattern of its own. */
const GGO_FLOOR_PERCENT = 5;
/** Honeycombing counts as present from this share of the lung (a few clustered cysts). */
const HONEYCOMB_PRESENT_PERCENT = 0.5;
/** Basal predominance: lower-zone fibrosis at least this multiple of the upper zone's and above the middle. */
const BASAL_RATIO = 1.5;
/** Subpleural predominance: at least this fraction of fibrosis lies in the subpleural band. */
const SUBPLEURAL_PREDOMINANT_FRACTION = 0.6;
/** Subpleural sparing (NSIP): the immediate subpleural shell is markedly less involved than the lung just
 *  beneath it — abnormality in the outer shell below this ratio of the inner band's. */
const SPARING_SHELL_MM = 3;
const SPARING_INNER_MM = 20;
const SPARING_RATIO = 0.5;
/** Sparing is judged only when the inner band is meaningfully abnormal. */
const SPARING_MIN_INNER_PERCENT = 5;

// ── Quality ───────────────────────────────────────────────────────────────────────────────────────────
/** Below this the segmentation missed the lungs (or the scan is not a chest CT). */
const MIN_LUNG_VOLUME_ML = 300;
/** Adult total lung capacity is 4–8 L; inspiratory CT lung volumes outside 1.5–10 L suggest expiration,
 *  a paediatric scan or a segmentation error. */
const PLAUSIBLE_LUNG_VOLUME_ML: readonly [number, number] = [1500, 10000];

const CLASS = { normal: 0, groundGlass: 1, reticulation: 2, honeycombing: 3, emphysema: 4, consolidation: 5 } as const;

export type AnalysisResult = Omit<EngineResult, 'timings'>;

type SliceStats = {
  lung: number;
  classes: Float64Array; // counts per CLASS
  fibrosis: number;
  fibrosisSubpleural: number;
  honeycombSubpleural: number;
  shellLung: number;
  shellAbnormal: number;
  innerLung: number;
  innerAbnormal: number;
  /** Patient-right lung (image left in a standard axial orientation) and its fibrosis; the rest is left. */
  rightLung: number;
  rightFibrosis: number;
};

/**
 * Analyses a HU volume. Deterministic; the caller adds timings.
 * @param classMap - when given (one byte per voxel), receives each lung voxel's class + 1 (0 = not lung),
 *   for validation and overlays; the analysis itself never allocates a whole-volume class map.
 */
export function analyzeVolume(volume: Volume, classMap?: Uint8Array): AnalysisResult {
  const { width: w, height: h, depth: d, hu } = volume;
  const n = w * h;
  const ps = (volume.pixelSpacingMm[0] + volume.pixelSpacingMm[1]) / 2;
  const seg = segmentLungs(volume);
  const lung = seg.lung;

  const rTex = Math.max(1, Math.round(TEXTURE_WINDOW_MM / 2 / ps));
  const rCons = Math.max(rTex + 1, Math.round(CONSOLIDATION_WINDOW_MM / 2 / ps));
  const histogram = new Float64Array(65536);
  const stats: SliceStats[] = [];

  // Scratch for one slice's rectangle: the lungs' bounding box plus a margin M, so no window is ever
  // clipped (pixels in the margin are not lung and add nothing to the sums).
  const M = rCons + 1;
  const maxW = w + 2 * M, maxH = h + 2 * M, maxN = maxW * maxH, maxSat = (maxW + 1) * (maxH + 1);
  const lmask = new Uint8Array(maxN);
  const localHu = new Int16Array(maxN);
  const depthMm = new Float32Array(maxN);
  const klass = new Uint8Array(maxN);
  const cyst = new Uint8Array(maxN);
  const satCount = new Int32Array(maxSat);
  const satSum = new Float64Array(maxSat);
  const satSq = new Float64Array(maxSat);
  const satInter = new Int32Array(maxSat);
  const satDense = new Int32Array(maxSat);
  const satCyst = new Int32Array(maxSat);
  const columnLung = new Int32Array(maxW);

  for (let z = 0; z < d; z++) {
    const base = z * n;
    const st: SliceStats = {
      lung: 0, classes: new Float64Array(6), fibrosis: 0, fibrosisSubpleural: 0, honeycombSubpleural: 0,
      shellLung: 0, shellAbnormal: 0, innerLung: 0, innerAbnormal: 0, rightLung: 0, rightFibrosis: 0,
    };
    stats.push(st);
    const x0 = seg.boxes[4 * z]!, y0 = seg.boxes[4 * z + 1]!, x1 = seg.boxes[4 * z + 2]!, y1 = seg.boxes[4 * z + 3]!;
    if (x1 < 0) continue;
    const ox = x0 - M, oy = y0 - M; // image coordinates of the rectangle's corner (may be negative)
    const lw = x1 - x0 + 1 + 2 * M, lh = y1 - y0 + 1 + 2 * M;
    for (let ly = 0; ly < lh; ly++) {
      const gy = oy + ly;
      const o = ly * lw;
      if (gy < 0 || gy >= h) {
        lmask.fill(0, o, o + lw);
        localHu.fill(0, o, o + lw);
        continue;
      }
      for (let lx = 0; lx < lw; lx++) {
        const gx = ox + lx;
        if (gx < 0 || gx >= w) { lmask[o + lx] = 0; localHu[o + lx] = 0; continue; }
        const g = base + gy * w + gx;
        lmask[o + lx] = lung[g]!;
        localHu[o + lx] = lung[g] ? hu[g]! : 0;
      }
    }
    // Depth below the pleura: distance to the nearest non-lung pixel centre, less half a pixel, so the
    // outermost lung pixel sits at ps/2.
    chamferDistance(lmask, 0, lw, lh, ps, depthMm);
    const split = ox + splitColumn(lmask, lw, lh, columnLung);
    const half = ps / 2;

    // All summed-area tables in one fused pass (masked: only lung pixels contribute).
    const SW = lw + 1;
    for (let x = 0; x <= lw; x++) { satCount[x] = 0; satSum[x] = 0; satSq[x] = 0; satInter[x] = 0; satDense[x] = 0; }
    for (let ly = 0; ly < lh; ly++) {
      let rc = 0, rs = 0, rq = 0, ri = 0, rd = 0;
      const o = (ly + 1) * SW;
      satCount[o] = 0; satSum[o] = 0; satSq[o] = 0; satInter[o] = 0; satDense[o] = 0;
      const src = ly * lw;
      for (let lx = 0; lx < lw; lx++) {
        if (lmask[src + lx]) {
          const v = localHu[src + lx]!;
          rc++; rs += v; rq += v * v;
          if (v >= INTERMEDIATE_LOW_HU && v <= INTERMEDIATE_HIGH_HU) ri++;
          if (v > CONSOLIDATION_HU) rd++;
        }
        const t = o + lx + 1, u = t - SW;
        satCount[t] = satCount[u]! + rc;
        satSum[t] = satSum[u]! + rs;
        satSq[t] = satSq[u]! + rq;
        satInter[t] = satInter[u]! + ri;
        satDense[t] = satDense[u]! + rd;
      }
    }
    // Window corner offsets relative to the SAT index of pixel (lx, ly) = (ly * SW + lx).
    const tA = (rTex + 1) * SW + rTex + 1, tB = (rTex + 1) * SW - rTex, tC = -rTex * SW + rTex + 1, tD = -rTex * SW - rTex;
    const cA = (rCons + 1) * SW + rCons + 1, cB = (rCons + 1) * SW - rCons, cC = -rCons * SW + rCons + 1, cD = -rCons * SW - rCons;

    // Pass 1: texture classes per lung pixel, and honeycomb cyst candidates.
    for (let ly = M; ly < lh - M; ly++) {
      for (let lx = M; lx < lw - M; lx++) {
        const i = ly * lw + lx;
        cyst[i] = 0;
        if (!lmask[i]) continue;
        const si = ly * SW + lx;
        const v = localHu[i]!;
        const cnt = satCount[si + tA]! - satCount[si + tB]! - satCount[si + tC]! + satCount[si + tD]!;
        const mean = (satSum[si + tA]! - satSum[si + tB]! - satSum[si + tC]! + satSum[si + tD]!) / cnt;
        const variance = (satSq[si + tA]! - satSq[si + tB]! - satSq[si + tC]! + satSq[si + tD]!) / cnt - mean * mean;
        const sd = variance > 0 ? Math.sqrt(variance) : 0;
        const depth = depthMm[i]! - half;
        if (v < CYST_HU && depth <= HONEYCOMB_MAX_DEPTH_MM && mean > CYST_NEIGHBOURHOOD_MIN_MEAN_HU && sd >= CYST_NEIGHBOURHOOD_MIN_STD_HU) {
          cyst[i] = 1;
        }
        let c: number = CLASS.normal;
        if (v > CONSOLIDATION_HU) {
          const big = satCount[si + cA]! - satCount[si + cB]! - satCount[si + cC]! + satCount[si + cD]!;
          const dense = satDense[si + cA]! - satDense[si + cB]! - satDense[si + cC]! + satDense[si + cD]!;
          if (dense >= CONSOLIDATION_MIN_FRACTION * big) c = CLASS.consolidation;
        }
        if (c === CLASS.normal) {
          if (v < EMPHYSEMA_HU) c = CLASS.emphysema;
          else {
            const inter = satInter[si + tA]! - satInter[si + tB]! - satInter[si + tC]! + satInter[si + tD]!;
            if (sd >= RETIC_MIN_STD_HU && mean >= RETIC_MEAN_LOW_HU && mean <= RETIC_MEAN_HIGH_HU && inter >= RETIC_MIN_INTERMEDIATE_FRACTION * cnt) {
              c = CLASS.reticulation;
            } else if (
              mean >= GGO_MEAN_LOW_HU && mean <= GGO_MEAN_HIGH_HU && v >= GGO_VOXEL_LOW_HU && v <= GGO_VOXEL_HIGH_HU &&
              // Smooth — or textured only by something dense like a vessel, not by fine lines.
              (sd < RETIC_MIN_STD_HU || inter <= GGO_MAX_LINE_FRACTION * cnt)
            ) {
              c = CLASS.groundGlass;
            }
          }
        }
        klass[i] = c;
      }
    }
    // Pass 2: honeycomb clusters (cysts and their walls) override the texture classes.
    for (let x = 0; x <= lw; x++) satCyst[x] = 0;
    for (let ly = 0; ly < lh; ly++) {
      let rc = 0;
      const o = (ly + 1) * SW;
      satCyst[o] = 0;
      const src = ly * lw;
      const inside = ly >= M && ly < lh - M;
      for (let lx = 0; lx < lw; lx++) {
        if (inside && lx >= M && lx < lw - M && lmask[src + lx] && cyst[src + lx]) rc++;
        satCyst[o + lx + 1] = satCyst[o + lx + 1 - SW]! + rc;
      }
    }
    const hcDepth = HONEYCOMB_MAX_DEPTH_MM + rTex * ps;
    const cls = st.classes;
    for (let ly = M; ly < lh - M; ly++) {
      for (let lx = M; lx < lw - M; lx++) {
        const i = ly * lw + lx;
        if (!lmask[i]) continue;
        const si = ly * SW + lx;
        const depth = depthMm[i]! - half;
        let c = klass[i]!;
        if (depth <= hcDepth && c !== CLASS.consolidation) {
          const cysts = satCyst[si + tA]! - satCyst[si + tB]! - satCyst[si + tC]! + satCyst[si + tD]!;
          if (cysts > 0) {
            const cnt = satCount[si + tA]! - satCount[si + tB]! - satCount[si + tC]! + satCount[si + tD]!;
            if (cysts >= HONEYCOMB_CLUSTER_FRACTION * cnt) c = CLASS.honeycombing;
          }
        }
        st.lung++;
        const right = ox + lx < split; // LPS: columns grow towards the patient's left
        cls[c]!++;
        if (classMap) classMap[base + (oy + ly) * w + ox + lx] = c + 1;
        histogram[localHu[i]! + 32768]!++;
        const fib = c === CLASS.reticulation || c === CLASS.honeycombing;
        if (right) {
          st.rightLung++;
          if (fib) st.rightFibrosis++;
        }
        if (fib) {
          st.fibrosis++;
          if (depth <= SUBPLEURAL_DEPTH_MM) st.fibrosisSubpleural++;
          if (c === CLASS.honeycombing && depth <= SUBPLEURAL_DEPTH_MM) st.honeycombSubpleural++;
        }
        if (depth <= SPARING_INNER_MM) {
          const abnormal = fib || c === CLASS.groundGlass;
          if (depth <= SPARING_SHELL_MM) {
            st.shellLung++;
            if (abnormal) st.shellAbnormal++;
          } else {
            st.innerLung++;
            if (abnormal) st.innerAbnormal++;
          }
        }
      }
    }
  }
  return summarize(volume, stats, histogram, seg.airwayVoxels, seg.droppedComponents);
}

function summarize(volume: Volume, stats: SliceStats[], histogram: Float64Array, airwayVoxels: number, dropped: number): AnalysisResult {
  const d = stats.length;
  const voxelMl = (volume.pixelSpacingMm[0] * volume.pixelSpacingMm[1] * volume.sliceSpacingMm) / 1000;
  const lungSlices = stats.map((s, i) => (s.lung > 0 ? i : -1)).filter((i) => i >= 0);
  const first = lungSlices[0] ?? 0;
  const last = lungSlices[lungSlices.length - 1] ?? 0;
  const total = { lung: 0, classes: new Float64Array(6), fibrosis: 0, fibSub: 0, hcSub: 0, right: 0, rightFib: 0 };
  const zones = [0, 1, 2].map(() => ({ lung: 0, fibrosis: 0, shellLung: 0, shellAbn: 0, innerLung: 0, innerAbn: 0 }));
  for (let z = 0; z < d; z++) {
    const s = stats[z]!;
    if (!s.lung) continue;
    total.lung += s.lung;
    for (let c = 0; c < 6; c++) total.classes[c]! += s.classes[c]!;
    total.fibrosis += s.fibrosis;
    total.fibSub += s.fibrosisSubpleural;
    total.hcSub += s.honeycombSubpleural;
    total.right += s.rightLung;
    total.rightFib += s.rightFibrosis;
    const zone = zones[zoneOfSlice(z, first, last)]!;
    zone.lung += s.lung;
    zone.fibrosis += s.fibrosis;
    zone.shellLung += s.shellLung;
    zone.shellAbn += s.shellAbnormal;
    zone.innerLung += s.innerLung;
    zone.innerAbn += s.innerAbnormal;
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
  const zoneFib = zones.map((z) => pct(z.fibrosis, z.lung));
  const [upper, middle, lower] = zoneFib as [number, number, number];

  // Density histogram moments, exact from integer HU bins.
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
    const dv = b - 32768 - mean;
    const d2 = dv * dv;
    m2 += c * d2; m3 += c * d2 * dv; m4 += c * d2 * d2;
  }
  if (count) { m2 /= count; m3 /= count; m4 /= count; }
  const skewness = m2 > 0 ? m3 / m2 ** 1.5 : 0;
  const kurtosis = m2 > 0 ? m4 / (m2 * m2) - 3 : 0; // excess (Fisher) kurtosis: 0 for a normal distribution

  const fibrosisPercent = pct(total.fibrosis, total.lung);
  const subpleuralFraction = total.fibrosis > 0 ? round(total.fibSub / total.fibrosis, 3) : 0;
  const hcSubFraction = total.classes[CLASS.honeycombing]! > 0 ? total.hcSub / total.classes[CLASS.honeycombing]! : 0;
  const lowerZone = zones[2]!;
  const shellPct = pct(lowerZone.shellAbn, lowerZone.shellLung);
  const innerPct = pct(lowerZone.innerAbn, lowerZone.innerLung);

  const { category, rationale } = categorize({
    fibrosisPercent, ggo: extents.groundGlass, honeycombing: extents.honeycombing, hcSubFraction,
    upper, middle, lower, subpleuralFraction, shellPct, innerPct, emphysema: extents.emphysema,
    laa950: pct(laa, count),
  });

  const keyImages: KeyImage[] = [];
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
    keyImages.push({
      sopInstanceUid: volume.sopInstanceUids[best]!,
      ...(inst != null && Number.isInteger(inst) ? { instanceNumber: inst } : {}),
      sliceIndex: best,
      zone: zoneName,
      reason: s.fibrosis > 0
        ? `most fibrosis in the ${zoneName} zone: ${pct(s.fibrosis, s.lung)}% of this slice's lung`
        : `largest lung section of the ${zoneName} zone; no fibrosis detected`,
    });
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
  if (airwayVoxels === 0) flags.push('trachea not identified: large-airway air may be counted as lung');
  if (dropped > 0) flags.push(`${dropped} small air region(s) outside the lungs excluded (gut or oesophageal gas)`);

  const s = volume.summary;
  return {
    schema: 'ildflow.engine-result/1',
    engine: {
      id: REFERENCE_DESCRIPTOR.id,
      name: REFERENCE_DESCRIPTOR.name,
      version: REFERENCE_DESCRIPTOR.version,
      vendor: REFERENCE_DESCRIPTOR.vendor,
      regulatory: REFERENCE_DESCRIPTOR.regulatory,
    },
    input: {
      studyInstanceUid: s.studyInstanceUid,
      seriesInstanceUid: s.seriesInstanceUid,
      sliceCount: s.sliceCount,
      sliceThicknessMm: s.sliceThicknessMm,
      pixelSpacingMm: [s.pixelSpacingMm[0], s.pixelSpacingMm[1]],
      spacingBetweenSlicesMm: s.spacingBetweenSlicesMm,
      coverageMm: s.coverageMm,
      ...(s.convolutionKernel ? { convolutionKernel: s.convolutionKernel } : {}),
    },
    quality: { acceptable, flags },
    classification: { scheme: 'ATS/ERS/JRS/ALAT 2018 UIP', category, rationale },
    quantities: {
      lungVolumeMl,
      meanLungDensityHu: round(mean, 1),
      skewness: round(skewness, 3),
      kurtosis: round(kurtosis, 3),
      haaPercent: pct(haa, count),
      laa950Percent: pct(laa, count),
      extents,
      zones: { upper: { fibrosisPercent: upper }, middle: { fibrosisPercent: middle }, lower: { fibrosisPercent: lower } },
      subpleuralFibrosisFraction: subpleuralFraction,
      lungs: {
        right: { volumeMl: round(total.right * voxelMl, 1), fibrosisPercent: pct(total.rightFib, total.right) },
        left: { volumeMl: round((total.lung - total.right) * voxelMl, 1), fibrosisPercent: pct(total.fibrosis - total.rightFib, total.lung - total.right) },
      },
    },
    keyImages,
  };
}

type Facts = {
  fibrosisPercent: number; ggo: number; honeycombing: number; hcSubFraction: number;
  upper: number; middle: number; lower: number; subpleuralFraction: number;
  shellPct: number; innerPct: number; emphysema: number; laa950: number;
};

/** The 2018 ATS/ERS/JRS/ALAT CT categories from measured facts; the rationale states each fact used. */
export function categorize(f: Facts): { category: Category; rationale: string[] } {
  const r: string[] = [];
  const p = (v: number): string => `${Number(v.toFixed(1))}%`;
  r.push(`fibrosis (reticulation + honeycombing) ${p(f.fibrosisPercent)} of lung; ground glass ${p(f.ggo)}; honeycombing ${p(f.honeycombing)}`);
  r.push(`fibrosis by zone: upper ${p(f.upper)}, middle ${p(f.middle)}, lower ${p(f.lower)}`);
  if (f.fibrosisPercent > 0) r.push(`${Math.round(f.subpleuralFraction * 100)}% of fibrosis within ${SUBPLEURAL_DEPTH_MM} mm of the pleura`);
  if (f.emphysema >= 1) r.push(`emphysema ${p(f.emphysema)} of lung (LAA-950 ${p(f.laa950)})`);
  const done = (category: Category, why: string): { category: Category; rationale: string[] } => ({ category, rationale: [...r, why] });

  if (f.fibrosisPercent < FIBROSIS_FLOOR_PERCENT && f.ggo < GGO_FLOOR_PERCENT) {
    return done('no_fibrosis', `fibrosis below the ${FIBROSIS_FLOOR_PERCENT}% floor and ground glass below ${GGO_FLOOR_PERCENT}%`);
  }
  if (f.ggo >= GGO_FLOOR_PERCENT && f.ggo > f.fibrosisPercent) {
    const sparing = f.innerPct >= SPARING_MIN_INNER_PERCENT && f.shellPct < SPARING_RATIO * f.innerPct;
    return done('alternative_diagnosis', `ground-glass predominant (${p(f.ggo)} vs fibrosis ${p(f.fibrosisPercent)})` +
      (sparing ? `; subpleural sparing in the lower zone (outer ${SPARING_SHELL_MM} mm ${p(f.shellPct)} abnormal vs ${p(f.innerPct)} beneath)` : ''));
  }
  if (f.innerPct >= SPARING_MIN_INNER_PERCENT && f.shellPct < SPARING_RATIO * f.innerPct) {
    return done('alternative_diagnosis', `subpleural sparing in the lower zone: outer ${SPARING_SHELL_MM} mm ${p(f.shellPct)} abnormal vs ${p(f.innerPct)} beneath`);
  }
  if (Math.max(f.upper, f.middle) > f.lower) {
    return done('alternative_diagnosis', `fibrosis is upper/mid-zone predominant, not basal`);
  }
  const basal = f.lower >= BASAL_RATIO * f.upper && f.lower > f.middle;
  const subpleural = f.subpleuralFraction >= SUBPLEURAL_PREDOMINANT_FRACTION;
  if (basal && subpleural) {
    if (f.honeycombing >= HONEYCOMB_PRESENT_PERCENT && f.hcSubFraction >= SUBPLEURAL_PREDOMINANT_FRACTION) {
      return done('uip', `subpleural, basal-predominant fibrosis with honeycombing: honeycombing ${p(f.honeycombing)} of lung, ${Math.round(f.hcSubFraction * 100)}% subpleural`);
    }
    return done('probable_uip', `subpleural, basal-predominant reticulation without honeycombing (honeycombing ${p(f.honeycombing)} < ${HONEYCOMB_PRESENT_PERCENT}%)`);
  }
  return done('indeterminate', `fibrosis without a specific distribution (${basal ? 'basal' : 'not basal'}-predominant, ${subpleural ? 'subpleural' : 'not subpleural'})`);
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * The column that separates the right lung from the left on one slice: the one with the least lung in
 * the middle third of the lungs' extent (the mediastinum, or the anterior junction line where the lungs
 * touch). Assumes the standard axial orientation (rows along patient +x, DICOM LPS), as the phantom and
 * nearly every chest CT have. @returns a column index within the rectangle.
 */
function splitColumn(lmask: Uint8Array, lw: number, lh: number, columns: Int32Array): number {
  columns.fill(0, 0, lw);
  let x0 = lw, x1 = -1;
  for (let ly = 0; ly < lh; ly++) {
    const o = ly * lw;
    for (let lx = 0; lx < lw; lx++) if (lmask[o + lx]) columns[lx]!++;
  }
  for (let lx = 0; lx < lw; lx++) if (columns[lx]) { if (lx < x0) x0 = lx; x1 = lx; }
  if (x1 < 0) return lw >> 1;
  const a = x0 + Math.floor((x1 - x0) / 3), b = x1 - Math.floor((x1 - x0) / 3);
  let best = a, bestCount = Infinity;
  for (let lx = a; lx <= b; lx++) {
    // Ties: the column nearest the centre, so a wide mediastinum splits in its middle.
    const c = columns[lx]!;
    if (c < bestCount || (c === bestCount && Math.abs(lx - (x0 + x1) / 2) < Math.abs(best - (x0 + x1) / 2))) { best = lx; bestCount = c; }
  }
  return best;
}
