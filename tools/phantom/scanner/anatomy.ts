/**
 * The analytic chest outside the lung parenchyma: body outline with skin, subcutaneous fat and chest-wall
 * muscle, ribs, sternum, spine, mediastinum (fat, heart, aorta, SVC, pulmonary trunk, oesophagus),
 * trachea and main bronchi, the diaphragm over the liver (right) and the stomach with its gas bubble and
 * spleen (left), and the CT table (carbon-fibre shell, foam core) below the patient.
 *
 * The thorax is described in a canonical frame (mm of a nominal adult; z = 0 at the lung apex, negative
 * caudally) that is scaled to the patient by `sxy` in-plane and `sz` along z, so the lung volume scales
 * exactly as sxy²·sz. Soft tissue thicknesses that do not scale with the thorax (fat, skin, airway walls,
 * diaphragm) are in patient millimetres. Patient space is LPS: +x patient left, +y posterior, +z head.
 * HU values follow typical non-contrast chest CT (e.g. fat −100, muscle +45, liver +60, blood +40).
 */
import { LABEL, type Sample } from './types.js';

/** Everything about one simulated patient's anatomy, drawn from the seed (see patient.ts). */
export type Patient = {
  sxy: number; sz: number;
  /** Patient y of the canonical origin (the thorax centre). */
  yBody: number;
  /** Patient z of the lung apex. */
  zApex: number;
  /** Canonical semi-axes of the thoracic cavity (inner rib surface). */
  ca: number; cb: number;
  /** Subcutaneous fat, patient mm: lateral, anterior, posterior. */
  fatL: number; fatA: number; fatP: number;
  heart: number;
  /** Canonical z of the right and left dome tops (negative). */
  domeR: number; domeL: number;
  diaphragmMm: number;
  tracheaLumenMm: number; tracheaWallMm: number;
  lungHu: number; gradientHu: number;
  table: { gapMm: number; foamMm: number; foamHu: number; shellHu: number; shellMm: number };
};

type Capsule = { ax: number; ay: number; az: number; bx: number; by: number; bz: number; r: number; hu: number; zLo: number; zHi: number };

const HU = { air: -1000, fat: -100, muscle: 45, skin: 30, blood: 40, liver: 60, spleen: 48, cortical: 750, cancellous: 200, disc: 90, csf: 15, cartilage: 110, stomach: 40, fluid: 15, abdomen: 30 } as const;

/** Canonical landmarks (mm). Hilar points are where the intrapulmonary trees start. */
export const LANDMARKS = {
  carina: [0, 10, -105],
  bronchusR: [-42, 16, -128], bronchusL: [46, 20, -140],
  arteryR: [-47, 2, -132], arteryL: [49, 8, -122],
  veinR: [-45, -12, -160], veinL: [45, -6, -154],
} as const;

/** Signed superellipse measure |u|^2.5 + |v|^2.5 (boxier than an ellipse, like an adult trunk). */
function se(u: number, v: number): number {
  const a = Math.abs(u), b = Math.abs(v);
  return a * a * Math.sqrt(a) + b * b * Math.sqrt(b);
}

function segDist2(px: number, py: number, pz: number, c: Capsule): number {
  const dx = c.bx - c.ax, dy = c.by - c.ay, dz = c.bz - c.az;
  const l2 = dx * dx + dy * dy + dz * dz;
  let t = l2 > 0 ? ((px - c.ax) * dx + (py - c.ay) * dy + (pz - c.az) * dz) / l2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const ex = px - c.ax - t * dx, ey = py - c.ay - t * dy, ez = pz - c.az - t * dz;
  return ex * ex + ey * ey + ez * ez;
}

/** The analytic anatomy of one patient. */
export type Anatomy = {
  patient: Patient;
  /** Canonical lung test: 0 none, 1 right, 2 left. Used for volume calibration and the depth map. */
  lungSideCanon: (X: number, Y: number, Zc: number) => number;
  /** Evaluates a patient-space point. Returns true (with `o.side` set) if it lies in the lung envelope,
   *  otherwise fills `o.hu` and `o.label` with the tissue there. */
  classify: (x: number, y: number, z: number, o: Sample) => boolean;
  /** Patient-space hilar points where the intrapulmonary trees start. */
  toPatient: (p: readonly number[]) => [number, number, number];
};

export function makeAnatomy(p: Patient): Anatomy {
  const { sxy, sz, yBody, zApex, ca, cb } = p;
  const toPatient = (q: readonly number[]): [number, number, number] => [q[0]! * sxy, yBody + q[1]! * sxy, zApex + q[2]! * sz];
  // Outlines in patient mm: chest-wall muscle (thicker posteriorly: paraspinal muscles), then fat.
  const mL = (ca + 14) * sxy, mA = (cb + 22) * sxy, mP = (cb + 44) * sxy;
  const bL = mL + p.fatL, bA = mA + p.fatA, bP = mP + p.fatP;
  const h = p.heart;
  const heart = { cx: 18, cy: -25, cz: -175, a: 62 * h, b: 50 * h, c: 58 * h };
  // Diaphragm domes: tall ellipsoids (steep sides), so the costophrenic recesses run 6–8 cm below the
  // dome tops posteriorly and laterally, as on coronal CT.
  const dome = (cx: number, top: number) => ({ cx, cy: -8, cz: top - 230, a: 122, b: 122, c: 230 });
  const domes = [dome(-45, p.domeR), dome(45, p.domeL)];
  const tC = p.diaphragmMm / sxy; // diaphragm thickness in canonical mm
  const inDome = (d: (typeof domes)[number], X: number, Y: number, Zc: number, grow: number): boolean => {
    const u = (X - d.cx) / (d.a + grow), v = (Y - d.cy) / (d.b + grow), w = (Zc - d.cz) / (d.c + grow);
    return u * u + v * v + w * w < 1;
  };
  const mediastinalHalf = (Y: number): number => (Y > 30 ? 21 : Y < -55 ? 11 : 28);

  const lungSideCanon = (X: number, Y: number, Zc: number): number => {
    if (Zc > 0 || Zc < -320) return 0;
    const ax = Math.abs(X);
    if (ax <= mediastinalHalf(Y)) return 0;
    if ((X / ca) ** 2 + (Y / cb) ** 2 >= 1) return 0;
    if (ax < 38 && Y > 70) return 0; // transverse processes and rib heads
    if (Zc > -95) {
      // Apex: each lung rounds off into a dome reaching up into the thoracic inlet.
      const u = (ax - 62) / 70, v = (Y - 10) / 80, w = (Zc + 95) / 95;
      if (u * u + v * v + w * w >= 1) return 0;
    }
    if (Zc < -150 && (inDome(domes[0]!, X, Y, Zc, tC) || inDome(domes[1]!, X, Y, Zc, tC))) return 0;
    const hx = (X - heart.cx) / (heart.a + 4), hy = (Y - heart.cy) / (heart.b + 4), hz = (Zc - heart.cz) / (heart.c + 4);
    if (hx * hx + hy * hy + hz * hz < 1) return 0; // heart and pericardium
    if (X > 0 && Zc < -80 && (X - 24) ** 2 + (Y - 40) ** 2 < 15 * 15) return 0; // descending aorta
    return X < 0 ? 1 : 2;
  };

  // Mediastinal tubes (patient mm): aorta, SVC, pulmonary trunk and arteries, pulmonary veins.
  const tube = (a: readonly number[], b: readonly number[], r: number, hu: number = HU.blood): Capsule => {
    const A = toPatient(a), B = toPatient(b);
    return { ax: A[0], ay: A[1], az: A[2], bx: B[0], by: B[1], bz: B[2], r: r * sxy, hu, zLo: Math.min(A[2], B[2]) - r * sxy, zHi: Math.max(A[2], B[2]) + r * sxy };
  };
  const vessels: Capsule[] = [
    tube([-12, -25, -160], [-12, -25, -85], 15), tube([-12, -25, -85], [2, -8, -72], 14), tube([2, -8, -72], [16, 16, -76], 13),
    tube([16, 16, -76], [24, 40, -88], 12), tube([24, 40, -88], [24, 40, -340], 12), tube([-34, -22, -50], [-34, -22, -165], 9),
    tube([10, -45, -150], [22, -20, -128], 14), tube([22, -20, -128], [-5, -6, -128], 11),
    tube([-5, -6, -128], LANDMARKS.arteryR, 10), tube([22, -20, -128], LANDMARKS.arteryL, 10),
    tube(LANDMARKS.veinR, [4, 8, -165], 7), tube(LANDMARKS.veinL, [24, 8, -160], 7),
    tube([6, 30, 60], [8, 32, -340], 8, HU.blood), // oesophagus (soft tissue like blood, non-contrast)
  ];
  // Central airways: lumen radius and wall in patient mm.
  const car = toPatient(LANDMARKS.carina);
  const tracheaY = car[1];
  const lumen = p.tracheaLumenMm, wall = p.tracheaWallMm;
  const bronchi = [
    { ...tube(LANDMARKS.carina, LANDMARKS.bronchusR, 0), r: lumen * 0.75 },
    { ...tube(LANDMARKS.carina, LANDMARKS.bronchusL, 0), r: lumen * 0.66 },
  ];
  const stomach = { cx: 68, cy: -18, cz: p.domeL - 75, a: 45, b: 50, c: 60 };
  const spleen = { cx: 86, cy: 48, cz: p.domeL - 85, a: 32, b: 30, c: 55 };
  const inEll = (e: { cx: number; cy: number; cz: number; a: number; b: number; c: number }, X: number, Y: number, Zc: number, grow = 0): boolean => {
    const u = (X - e.cx) / (e.a - grow), v = (Y - e.cy) / (e.b - grow), w = (Zc - e.cz) / (e.c - grow);
    return u * u + v * v + w * w < 1;
  };
  const ribDrop = 45, ribStep = 24, ribTop = -4;
  const t = p.table;
  const tableTop = yBody + bP + t.gapMm;

  const set = (o: Sample, hu: number, label: number): false => {
    o.hu = hu;
    o.label = label;
    o.side = 0;
    return false;
  };

  const classify = (x: number, y: number, z: number, o: Sample): boolean => {
    const dy = y - yBody;
    if (se(x / bL, dy / (dy < 0 ? bA : bP)) > 1) {
      // Outside the patient: the table (a curved carbon-fibre shell round a foam core), else air.
      const top = tableTop - 22 * (x / 200) ** 2;
      const d = y - top;
      if (d >= 0 && Math.abs(x) < 230) {
        if (d < t.shellMm || (d >= t.shellMm + t.foamMm && d < 2 * t.shellMm + t.foamMm)) return set(o, t.shellHu, LABEL.table);
        if (d < t.shellMm + t.foamMm) return set(o, t.foamHu, LABEL.table);
      }
      return set(o, HU.air, LABEL.outside);
    }
    const X = x / sxy, Y = dy / sxy, Zc = (z - zApex) / sz;
    const rc = (X / ca) ** 2 + (Y / cb) ** 2;
    if (rc >= 1) {
      // Chest wall.
      if (se(x / mL, dy / (dy < 0 ? mA : mP)) > 1) {
        const skin = se(x / (bL - 2), dy / ((dy < 0 ? bA : bP) - 2)) > 1;
        return set(o, skin ? HU.skin : HU.fat, LABEL.body);
      }
      const ax = Math.abs(X);
      if (ax < 40 && Y > 60) return set(o, spine(X, Y, Zc), LABEL.body);
      if (Y < 0 && ax < 18 && Zc < -25 && Zc > -205 && Y > -cb - 16) {
        // Sternum: cancellous core in a cortical shell.
        const edge = Math.min(18 - ax, Y + cb + 16, -cb - 3 - Y);
        if (edge >= 0) return set(o, edge < 1.5 ? HU.cortical : HU.cancellous, LABEL.body);
      }
      const r = Math.hypot(X, Y);
      const u = r * (1 - 1 / Math.sqrt(rc)); // mm outside the cavity along the ray from the centre
      if (u < 9 && !(Y > 0 && ax < 26)) {
        // Ribs: oblique bars, the anterior end 4–5 cm lower than the posterior (PA chest anatomy).
        const zr = Zc + (ribDrop * (1 - Y / r)) / 2;
        const i = Math.round((ribTop - zr) / ribStep);
        if (i >= 0 && i < 12) {
          const du = (u - 5) / 3.6, dz = (zr - (ribTop - i * ribStep)) / 5.5;
          const q = du * du + dz * dz;
          if (q < 1) {
            const cartilage = Y < 0 && ax < 45;
            return set(o, cartilage ? HU.cartilage : q > 0.45 ? HU.cortical : HU.cancellous, LABEL.body);
          }
        }
      }
      return set(o, HU.muscle, LABEL.body);
    }
    // Thoracic cavity.
    if (Y > 35 && Math.abs(X) < 40) {
      const s = spine(X, Y, Zc);
      if (s !== HU.muscle) return set(o, s, LABEL.body);
    }
    const ty = y - tracheaY;
    if (Zc > LANDMARKS.carina[2]) {
      const d = Math.hypot(x, ty);
      if (d < lumen + wall) return set(o, d < lumen ? HU.air : HU.skin, LABEL.centralAirway);
    } else if (Zc > -160 && Zc < -95) {
      for (const b of bronchi) {
        const d2 = segDist2(x, y, z, b);
        if (d2 < (b.r + wall) ** 2) return set(o, d2 < b.r * b.r ? HU.air : HU.skin, LABEL.centralAirway);
      }
    }
    for (const v of vessels) {
      if (z >= v.zLo && z <= v.zHi && segDist2(x, y, z, v) < v.r * v.r) return set(o, v.hu, LABEL.body);
    }
    const side = lungSideCanon(X, Y, Zc);
    if (side) {
      o.side = side;
      return true;
    }
    if (Zc < -150) {
      // Below the diaphragm: liver in the right dome; stomach (gas anteriorly, the non-dependent side of
      // a supine patient), spleen and bowel in the left; the diaphragm muscle between dome and lung.
      if (inDome(domes[0]!, X, Y, Zc, 0)) return set(o, HU.liver, LABEL.body);
      if (inDome(domes[1]!, X, Y, Zc, 0)) {
        if (inEll(stomach, X, Y, Zc)) {
          const inner = inEll(stomach, X, Y, Zc, 4 / sxy);
          return set(o, !inner ? HU.stomach : Y < stomach.cy - 12 ? HU.air : HU.fluid, LABEL.body);
        }
        return set(o, inEll(spleen, X, Y, Zc) ? HU.spleen : HU.abdomen, LABEL.body);
      }
      if (inDome(domes[0]!, X, Y, Zc, tC) || inDome(domes[1]!, X, Y, Zc, tC)) return set(o, HU.muscle, LABEL.body);
    }
    const hx = (X - heart.cx) / heart.a, hy = (Y - heart.cy) / heart.b, hz = (Zc - heart.cz) / heart.c;
    if (hx * hx + hy * hy + hz * hz < 1) return set(o, HU.blood, LABEL.body);
    return set(o, Zc > 0 ? HU.muscle : HU.fat, LABEL.body);
  };

  return { patient: p, lungSideCanon, classify, toPatient };
}

/** Thoracic spine at a canonical point: vertebral body (cortical rim, cancellous core, discs every
 *  26 mm), canal, arch, transverse and spinous processes; paraspinal muscle elsewhere. */
function spine(X: number, Y: number, Zc: number): number {
  const lv = ((Zc + 1000) % 26) - 13; // position within the vertebral level, −13…13 mm
  const ax = Math.abs(X);
  const rb = Math.hypot(X, Y - 55);
  if (rb < 18) return Math.abs(lv) > 10.5 ? HU.disc : rb > 16.5 ? HU.cortical : HU.cancellous;
  const rcn = Math.hypot(X, Y - 83);
  if (rcn < 8) return HU.csf;
  if (rcn < 13) return HU.cortical;
  if (ax < 4 && Y > 90 && Y < 120) return HU.cortical;
  if (Math.abs(lv) < 7 && Math.abs(Y - 80) < 5 && ax < 36) return HU.cortical;
  return HU.muscle;
}
