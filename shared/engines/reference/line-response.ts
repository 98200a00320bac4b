/**
 * How much fine-scale texture a thin line leaves after this scan's PSF and the engine's own filters,
 * relative to the reference scan the texture constants are stated for (thresholds.ts: K.reticTexture,
 * K.reticTextureShare; PSF σ 0.67 mm, 0.7 mm pixels).
 *
 * A line thinner than the PSF keeps its mass m and becomes the PSF's profile, m·G_σ(x). The fine-texture
 * measure (classify.ts) reads it through the ±TEXTURE_RADIUS voxel box and subtracts the mean over the
 * ±fineRadius voxel neighbourhood: h = B_t * G_σ − B_f * B_t * G_σ. A window's mean squared texture is
 * the line's length density times ∫h², so the RMS a reticulation shows scales as √∫h². Peak contrast
 * alone falls as 1/σ, but the profile widens as σ, and the neighbourhood widens with σ in steps
 * (scan-physics.ts fineRadiusPx): at σ 1.15 mm the RMS is 0.84 of the reference, not 0.58 — the 1/σ
 * rule let ground glass with a few fine lines (NSIP) pass as reticulation under a soft kernel. A sharp
 * PSF or small pixels raise it above 1, and the threshold rises with it.
 */
import { fineRadiusPx, TEXTURE_RADIUS } from './scan-physics.js';

export const REFERENCE_SCAN = { psfSigmaMm: 0.67, pixelMm: 0.7 } as const;

/** Sampling of the 1-D profile: 0.01 mm over ±12 σ plus both boxes' reach. */
const STEP_MM = 0.01;

/** √∫h² of a unit-mass line through a Gaussian PSF σ (mm), the texture box and the fine neighbourhood. */
export function fineLineEnergy(psfSigmaMm: number, pixelMm: number): number {
  const sigma = Math.max(psfSigmaMm, 0.05);
  const halfT = (TEXTURE_RADIUS + 0.5) * pixelMm;
  const halfF = (fineRadiusPx(psfSigmaMm, pixelMm) + 0.5) * pixelMm;
  const reach = 12 * sigma + 2 * (halfT + halfF);
  const n = 2 * Math.ceil(reach / STEP_MM) + 1, mid = (n - 1) / 2;
  const g = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = (i - mid) * STEP_MM;
    g[i] = (Math.exp((-x * x) / (2 * sigma * sigma)) / (Math.sqrt(2 * Math.PI) * sigma)) * STEP_MM;
  }
  const t = boxMean(g, Math.round(halfT / STEP_MM));
  const f = boxMean(t, Math.round(halfF / STEP_MM));
  let e = 0;
  for (let i = 0; i < n; i++) e += (t[i]! - f[i]!) ** 2;
  return Math.sqrt(e);
}

/** The texture a line shows on this scan as a share of what it shows on the reference scan. */
export function fineLineResponse(psfSigmaMm: number, pixelMm: number): number {
  return fineLineEnergy(psfSigmaMm, pixelMm) / fineLineEnergy(REFERENCE_SCAN.psfSigmaMm, REFERENCE_SCAN.pixelMm);
}

/** Centred running mean of half-width `r` samples; zero outside (the profile is zero there). */
function boxMean(v: Float64Array, r: number): Float64Array {
  const n = v.length, out = new Float64Array(n), prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + v[i]!;
  for (let i = 0; i < n; i++) out[i] = (prefix[Math.min(n, i + r + 1)]! - prefix[Math.max(0, i - r)]!) / (2 * r + 1);
  return out;
}
