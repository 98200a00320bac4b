/**
 * Draws one adult patient from the seed: thorax size and shape, fat, heart, diaphragm heights, lung
 * density and its gravity gradient, airway calibre and the CT table. The thorax is scaled so that the
 * total lung volume lands on a target drawn in 3.3–5.7 L (adult CT lung volumes at full inspiration are
 * about 4–6.5 L in men and 3–5 L in women), measured on the analytic lung envelope itself.
 */
import { makeAnatomy, type Patient } from './anatomy.js';
import { makeRng, subSeed } from './field.js';

/** Half of the reference field of view (mm) the patient must fit in, whatever the pixel size. */
const HALF_FOV = 176;

/** Canonical lung volume (mm³) of a patient shape, on a 3 mm grid. */
function canonicalVolume(p: Patient): number {
  const a = makeAnatomy({ ...p, sxy: 1, sz: 1 });
  const g = 3;
  let n = 0;
  for (let z = -320 + g / 2; z < 0; z += g)
    for (let y = -p.cb; y < p.cb; y += g)
      for (let x = -p.ca; x < p.ca; x += g) if (a.lungSideCanon(x, y, z)) n++;
  return n * g * g * g;
}

/** The patient of a seed; `lungScale` fixes the thorax scale instead of the drawn volume. */
export function drawPatient(seed: number, lungScale?: number): Patient {
  const r = makeRng(subSeed(seed, 'patient'));
  const fatL = r.between(6, 26);
  const domeR = -185 + r.between(-12, 12);
  const p: Patient = {
    sxy: 1, sz: 1, yBody: 0, zApex: 0,
    ca: 125 * r.between(0.95, 1.04), cb: 85 * r.between(0.93, 1.07),
    fatL, fatA: fatL * r.between(0.6, 1), fatP: fatL * 0.45,
    heart: r.between(0.9, 1.08),
    domeR, domeL: domeR - r.between(8, 22),
    diaphragmMm: r.between(3, 5),
    tracheaLumenMm: r.between(7.5, 9.5), tracheaWallMm: r.between(1.5, 2.5),
    lungHu: r.between(-870, -840), gradientHu: r.between(60, 120),
    table: { gapMm: r.between(3, 8), foamMm: r.between(30, 50), foamHu: r.between(-950, -900), shellHu: r.between(280, 320), shellMm: 2 },
  };
  const targetMl = r.between(3300, 5700);
  const j = r.between(0.96, 1.04);
  if (lungScale !== undefined) {
    p.sxy = lungScale;
    p.sz = lungScale;
  } else {
    const s = Math.cbrt((targetMl * 1000) / canonicalVolume(p));
    p.sxy = s * j;
    p.sz = s / (j * j);
  }
  // Keep the trunk inside the field of view: arms are raised for a chest CT, so the width is the chest's.
  const lateral = (p.ca + 14) * p.sxy;
  if (lateral + p.fatL > HALF_FOV - 4) p.fatL = Math.max(3, HALF_FOV - 4 - lateral);
  const bP = (p.cb + 44) * p.sxy + p.fatP, bA = (p.cb + 22) * p.sxy + p.fatA;
  const t = p.table;
  p.yBody = HALF_FOV - (bP + t.gapMm + 2 * t.shellMm + t.foamMm);
  if (p.yBody - bA < -HALF_FOV) p.yBody = -HALF_FOV + bA; // the table is then cut by the field of view
  return p;
}
