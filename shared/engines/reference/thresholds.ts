/**
 * Every threshold of the classification, derived from the scan's own measurements (scan-physics.ts) and a
 * few dimensionless constants, each with its reason (docs/reference-engine.md, "Thresholds"). Densities
 * are placed as fractions of the lung–tissue contrast C = tissue − parenchyma (≈ 900 HU), so a scanner
 * whose water sits at +20 or whose lung reads −820 moves every level with it; noise margins are
 * multiples of the noise measured after denoising.
 */
import type { ScanPhysics } from './scan-physics.js';

/** Emphysema: the LAA-950 threshold validated against pathology (Gevenois et al., AJRCCM 1996). */
export const EMPHYSEMA_HU = -950;
/** HAA range (−600…−250 HU), the high-attenuation-area index of Podolanczuk et al. (MESA, 2016). */
export const HAA_LOW_HU = -600;
export const HAA_HIGH_HU = -250;

export const K = {
  /** Dense: above half-way between parenchyma and tissue — a structure at least as thick as the PSF
   *  (a vessel) reaches it; a fine line thinner than the PSF is spread below it. */
  dense: 0.5,
  /** Vessel core: 70 % of the way to tissue (blood is tissue; fibrotic lung between cysts is not). */
  vessel: 0.7,
  /** Consolidation: three quarters of the way to tissue, filling most of a 10 mm window. */
  consolidation: 0.75,
  consolidationFill: 0.6,
  /** Ground glass: at least this fraction of C above parenchyma (−860 + 0.12·900 ≈ −750 HU, the lower
   *  end of hazy attenuation, Hansell 2008), and never within 4 noise SDs of it. */
  groundGlass: 0.12,
  noiseMargin: 4,
  /** A voxel is raised above parenchyma by this fraction of C (and 4 noise SDs): touched by a structure. */
  elevated: 0.06,
  /** Reticulation: its window's mean is raised by at least this fraction of C (fine lines fill ≥ 10 % of a
   *  reticular window), the window has fine-scale texture beyond noise of this fraction of C, and the
   *  raise is spread over the window — a network touches most of it, a single vessel crossing the window
   *  only its own path. */
  reticMean: 0.15,
  reticTexture: 0.03,
  reticSpread: 0.6,
  /* The two texture constants are stated for a sharp lung kernel (PSF σ 0.67 mm with the pixel aperture,
   * 0.7 mm pixels); classify.ts scales them by the texture a thin line keeps on this scan (line-response.ts). */
  /** Lines, not haze: the fine texture is at least this share of the raise. Ground glass with a few fine
   *  lines in it is raised throughout and only faintly textured. */
  reticTextureShare: 0.1,
  /** Ground glass fills its window: most of it raised, and its mean at the ground-glass level. */
  groundGlassSpread: 0.5,
  /** Honeycombing: ≥ 5 % of a 10 mm window is air-containing (below parenchyma by 4 noise SDs) and its non-air part is raised by ≥ 0.15·C (walls
   *  1–3 mm thick and the fibrosis around them; paraseptal emphysema's walls are ≤ 1 mm). */
  honeycombAir: 0.05,
  honeycombWall: 0.15,
} as const;

/** A vessel's dense core is at least this thick in-plane; fine lines (0.3–1.5 mm) are thinner. */
export const VESSEL_MIN_DIAMETER_MM = 1.8;
/** Window radii (mm). */
export const WINDOW_MM = { texture: 4, fine: 1.5, consolidation: 5, honeycomb: 5 } as const;
/** Honeycombing is subpleural: clustered cysts within this depth (two or three layers of 3–10 mm cysts). */
export const HONEYCOMB_MAX_DEPTH_MM = 25;
/** Traction bronchiectasis: an airway lumen visible within this depth of the pleura inside fibrosis
 *  (normal airways there are below CT resolution; Hansell 2008). */
export const TRACTION_MAX_DEPTH_MM = 20;

export type Thresholds = Readonly<{
  tissue: number;
  air: number;
  /** Emphysema region on denoised density: below half-way between air and parenchyma (the iso-surface of
   *  a blurred air space), never within 4 noise SDs of parenchyma. */
  emphysema: number;
  noise: number;
}>;

export function deriveThresholds(p: ScanPhysics, parenchymaHu: number): Thresholds {
  return {
    tissue: p.tissueHu,
    air: p.airHu,
    emphysema: Math.min(holeThreshold(p.airHu, parenchymaHu), parenchymaHu - K.noiseMargin * p.denoisedNoiseSdHu),
    noise: p.denoisedNoiseSdHu,
  };
}

/** Lung mask threshold: half-way between parenchyma and tissue (the iso-surface of the blurred edge). */
export const lungThreshold = (parenchymaHu: number, tissueHu: number): number => Math.round((parenchymaHu + tissueHu) / 2);
/** Air hole: half-way between air and parenchyma. */
export const holeThreshold = (airHu: number, parenchymaHu: number): number => Math.round((airHu + parenchymaHu) / 2);
