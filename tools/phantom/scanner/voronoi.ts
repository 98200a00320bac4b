/**
 * A stateless 3-D Voronoi tessellation: one seed per lattice cell at a hashed position (some cells left
 * empty, so cell sizes vary), and for a point the distance to the nearest cell wall — the bisector plane
 * of its two nearest seeds, (d₂² − d₁²) / (2‖s₂ − s₁‖). Cell walls drawn as sheets give an irregular
 * polyhedral network (interlobular septa, honeycomb cyst walls); no seeds are stored.
 */
import { hash3 } from './field.js';

/** Result of a Voronoi lookup (reused). */
export type Cell = {
  /** Distance to the nearest wall (bisector of the two nearest seeds), mm. */
  wall: number;
  /** Lattice index hash of the nearest seed and of the pair of nearest seeds, each in [0, 1). */
  cellHash: number; pairHash: number;
  /** The nearest seed position. */
  sx: number; sy: number; sz: number;
};

/**
 * Nearest-wall distance of the tessellation with lattice `size` mm, `empty` the fraction of lattice
 * cells without a seed (merging neighbours into larger cells), written into `c`.
 */
export function voronoi(x: number, y: number, z: number, size: number, empty: number, seed: number, c: Cell): void {
  const fi = Math.floor(x / size), fj = Math.floor(y / size), fk = Math.floor(z / size);
  let d1 = Infinity, d2 = Infinity;
  let ax = 0, ay = 0, az = 0, bx = 0, by = 0, bz = 0, h1 = 0, h2 = 0;
  for (let k = fk - 1; k <= fk + 1; k++)
    for (let j = fj - 1; j <= fj + 1; j++)
      for (let i = fi - 1; i <= fi + 1; i++) {
        const h = hash3(i, j, k, seed);
        if (h < empty) continue;
        const sx = (i + 0.1 + 0.8 * hash3(i, j, k, seed + 1)) * size;
        const sy = (j + 0.1 + 0.8 * hash3(i, j, k, seed + 2)) * size;
        const sz = (k + 0.1 + 0.8 * hash3(i, j, k, seed + 3)) * size;
        const d = (x - sx) ** 2 + (y - sy) ** 2 + (z - sz) ** 2;
        if (d < d1) {
          d2 = d1; bx = ax; by = ay; bz = az; h2 = h1;
          d1 = d; ax = sx; ay = sy; az = sz; h1 = h;
        } else if (d < d2) {
          d2 = d; bx = sx; by = sy; bz = sz; h2 = h;
        }
      }
  c.sx = ax; c.sy = ay; c.sz = az;
  c.cellHash = h1;
  if (d2 === Infinity) {
    c.wall = size;
    c.pairHash = h1;
    return;
  }
  const sep = Math.sqrt((bx - ax) ** 2 + (by - ay) ** 2 + (bz - az) ** 2) || 1e-6;
  c.wall = (d2 - d1) / (2 * sep);
  const hp = (h1 + h2) * 7.31;
  c.pairHash = hp - Math.floor(hp);
}
