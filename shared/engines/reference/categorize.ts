/**
 * The CT category after the 2018 ATS/ERS/JRS/ALAT guideline (Raghu et al., AJRCCM 2018) and the
 * Fleischner Society white paper (Lynch et al., Lancet Respir Med 2018), from measured facts only; the
 * rationale states each fact used, and a criterion the engine did not see is named, never claimed.
 * Pure; the first rule that applies wins.
 */
import type { Category } from '../contract.js';
import { TRACTION_MAX_DEPTH_MM } from './thresholds.js';
import { SPARING_SHELL_MM, SUBPLEURAL_DEPTH_MM } from './classify.js';

/** Fibrosis (reticulation + honeycombing) below this share of the lung is what vessels, dependent
 *  density and noise leave in normal lungs: no fibrosis. */
const FIBROSIS_FLOOR_PERCENT = 3;
/** Ground glass below this share is not a pattern of its own. */
const GGO_FLOOR_PERCENT = 5;
/** Honeycombing counts as present from this share of the lung (a few clustered cysts). */
const HONEYCOMB_PRESENT_PERCENT = 0.5;
/** Honeycomb cysts are "usually in multiple layers" (Hansell 2008): at least this share of the cluster's
 *  air deeper than one cyst is reported as more than one layer. */
const SECOND_LAYER_MIN_FRACTION = 0.1;
/** Traction bronchiectasis counts from this volume of visible airway lumen within fibrosis. */
const TRACTION_MIN_ML = 0.1;
/** Basal predominance: lower-zone fibrosis at least this multiple of the upper zone's and above the middle. */
const BASAL_RATIO = 1.5;
/** Subpleural predominance: at least this fraction of fibrosis lies in the subpleural band. */
const SUBPLEURAL_PREDOMINANT_FRACTION = 0.6;
/** Subpleural sparing (NSIP): the outer shell less than half as abnormal as the band beneath it, judged
 *  only when that band is meaningfully abnormal. */
const SPARING_RATIO = 0.5;
const SPARING_MIN_INNER_PERCENT = 5;

export type Facts = {
  fibrosisPercent: number; ggo: number; honeycombing: number; hcSubFraction: number;
  /** Share of the honeycomb clusters' cyst air deeper than `secondLayerMm` (one typical cyst + wall). */
  hcDeepFraction: number;
  secondLayerMm: number;
  cystDiameterMm: number;
  /** Visible airway lumen (tubes) within fibrosis near the pleura, mL. */
  tractionMl: number;
  upper: number; middle: number; lower: number; subpleuralFraction: number;
  shellPct: number; innerPct: number; emphysema: number; laa950: number;
};

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
  const sparing = f.innerPct >= SPARING_MIN_INNER_PERCENT && f.shellPct < SPARING_RATIO * f.innerPct;
  const sparingText = `subpleural sparing in the lower zone (outer ${SPARING_SHELL_MM} mm ${p(f.shellPct)} abnormal vs ${p(f.innerPct)} beneath)`;
  if (f.ggo >= GGO_FLOOR_PERCENT && f.ggo > f.fibrosisPercent) {
    return done('alternative_diagnosis', `ground-glass predominant (${p(f.ggo)} vs fibrosis ${p(f.fibrosisPercent)})` + (sparing ? `; ${sparingText}` : ''));
  }
  if (sparing) return done('alternative_diagnosis', sparingText);
  if (Math.max(f.upper, f.middle) > f.lower) return done('alternative_diagnosis', 'fibrosis is upper/mid-zone predominant, not basal');
  const basal = f.lower >= BASAL_RATIO * f.upper && f.lower > f.middle;
  const subpleural = f.subpleuralFraction >= SUBPLEURAL_PREDOMINANT_FRACTION;
  if (!(basal && subpleural)) {
    return done('indeterminate', `fibrosis without a specific distribution (${basal ? 'basal' : 'not basal'}-predominant, ${subpleural ? 'subpleural' : 'not subpleural'})`);
  }
  const honeycomb = f.honeycombing >= HONEYCOMB_PRESENT_PERCENT && f.hcSubFraction >= SUBPLEURAL_PREDOMINANT_FRACTION;
  const layered = f.hcDeepFraction >= SECOND_LAYER_MIN_FRACTION;
  const traction = f.tractionMl >= TRACTION_MIN_ML;
  const tractionText = traction
    ? `traction bronchiectasis: ${f.tractionMl} mL of airway lumen visible within fibrosis, ≤ ${TRACTION_MAX_DEPTH_MM} mm from the pleura`
    : `no airway lumen visible within the fibrosis near the pleura (traction bronchiectasis not seen)`;
  if (honeycomb) {
    // Layering is reported, not required: honeycomb cysts are "usually" in several layers but may form one
    // (Hansell 2008); the walls and the basal distribution already set them apart from paraseptal emphysema.
    const layers = layered
      ? `${Math.round(f.hcDeepFraction * 100)}% of its cyst air deeper than ${f.secondLayerMm} mm (one typical ${f.cystDiameterMm} mm cyst and its wall): more than one layer`
      : `cysts in a single subpleural layer (${Math.round(f.hcDeepFraction * 100)}% of the air deeper than ${f.secondLayerMm} mm)`;
    return done('uip', `subpleural, basal-predominant fibrosis with honeycombing: ${p(f.honeycombing)} of lung, ${Math.round(f.hcSubFraction * 100)}% subpleural; ${layers}; ${tractionText}`);
  }
  if (traction) return done('probable_uip', `subpleural, basal-predominant reticulation without honeycombing; ${tractionText}`);
  return done('indeterminate', `subpleural, basal-predominant reticulation without honeycombing; ${tractionText}, which the 2018 guideline requires for probable UIP`);
}
