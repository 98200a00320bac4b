/**
 * Thin intrapulmonary objects — vessel and airway segments, fibres, cysts, emphysema holes,
 * consolidations — as tapered capsules (a segment with a radius at each end; a sphere is a capsule of
 * length 0), optionally hollow (a wall of given thickness round an inner value). A uniform grid lists,
 * per cell, only the objects that can reach the cell, so a point query costs a few dozen distance tests
 * whatever the number of objects.
 */

/** Kinds; the truth cares about emphysema (holes, paraseptal cysts) and consolidation containment. */
export const KIND = { vessel: 0, airway: 1, fibre: 2, cyst: 3, emphysema: 4, paraseptal: 5, consolidation: 6 } as const;
export type Kind = (typeof KIND)[keyof typeof KIND];

/** Which value wins where objects overlap: an airway lumen stays open through a vessel, a cyst's air
 *  hides the vessels it displaced, a vessel stays visible inside a centrilobular hole (the centrilobular
 *  artery is the hallmark of centrilobular emphysema, Fleischner glossary, Hansell 2008), fibres last. */
const PRIORITY_INNER = Uint8Array.from([5, 9, 2, 7, 4, 7, 3]); // indexed by KIND
const PRIORITY_WALL = Uint8Array.from([5, 8, 2, 6, 4, 6, 3]);

export type ObjectSpec = {
  a: readonly number[]; b: readonly number[];
  /** Outer radius at a and at b, mm. */
  r0: number; r1: number;
  /** Wall thickness (0 = solid), mm. */
  wall: number;
  hu: number; wallHu: number; kind: Kind;
};

/** The result of a point query (reused). */
export type Hit = { found: boolean; hu: number; prio: number; inEmphysema: boolean; inConsolidation: boolean; clear: number };

export class ObjectIndex {
  private readonly data: number[] = [];
  private readonly kinds: number[] = [];
  private fdata = new Float64Array(0);
  private fkinds = new Uint8Array(0);
  private starts = new Int32Array(1);
  private items = new Int32Array(0);
  private nx = 0; private ny = 0; private nz = 0;
  private x0 = 0; private y0 = 0; private z0 = 0;
  private built = false;
  constructor(private readonly cell = 3) {}

  get size(): number {
    return this.kinds.length;
  }

  add(o: ObjectSpec): void {
    this.data.push(o.a[0]!, o.a[1]!, o.a[2]!, o.b[0]!, o.b[1]!, o.b[2]!, o.r0, o.r1, o.wall, o.hu, o.wallHu);
    this.kinds.push(o.kind);
  }

  /** Builds the grid; objects added later are ignored. */
  build(): void {
    const d = this.data, n = this.kinds.length, c = this.cell;
    let lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < n; i++) {
      const o = i * 11, r = Math.max(d[o + 6]!, d[o + 7]!);
      for (let a = 0; a < 3; a++) {
        lo[a] = Math.min(lo[a]!, d[o + a]! - r, d[o + 3 + a]! - r);
        hi[a] = Math.max(hi[a]!, d[o + a]! + r, d[o + 3 + a]! + r);
      }
    }
    if (n === 0) lo = hi = [0, 0, 0];
    this.x0 = lo[0]!; this.y0 = lo[1]!; this.z0 = lo[2]!;
    this.nx = Math.max(1, Math.ceil((hi[0]! - lo[0]!) / c) + 1);
    this.ny = Math.max(1, Math.ceil((hi[1]! - lo[1]!) / c) + 1);
    this.nz = Math.max(1, Math.ceil((hi[2]! - lo[2]!) / c) + 1);
    const counts = new Int32Array(this.nx * this.ny * this.nz + 1);
    const visit = (i: number, fn: (cellIndex: number) => void): void => {
      const o = i * 11, r = Math.max(d[o + 6]!, d[o + 7]!);
      const reach = r + c * 0.8661; // the cell's half-diagonal
      const ax = d[o]!, ay = d[o + 1]!, az = d[o + 2]!, bx = d[o + 3]!, by = d[o + 4]!, bz = d[o + 5]!;
      const i0 = Math.floor((Math.min(ax, bx) - r - this.x0) / c), i1 = Math.floor((Math.max(ax, bx) + r - this.x0) / c);
      const j0 = Math.floor((Math.min(ay, by) - r - this.y0) / c), j1 = Math.floor((Math.max(ay, by) + r - this.y0) / c);
      const k0 = Math.floor((Math.min(az, bz) - r - this.z0) / c), k1 = Math.floor((Math.max(az, bz) + r - this.z0) / c);
      for (let k = Math.max(0, k0); k <= Math.min(this.nz - 1, k1); k++)
        for (let j = Math.max(0, j0); j <= Math.min(this.ny - 1, j1); j++)
          for (let ii = Math.max(0, i0); ii <= Math.min(this.nx - 1, i1); ii++) {
            const px = this.x0 + (ii + 0.5) * c, py = this.y0 + (j + 0.5) * c, pz = this.z0 + (k + 0.5) * c;
            if (segDistance(px, py, pz, ax, ay, az, bx, by, bz) <= reach) fn((k * this.ny + j) * this.nx + ii);
          }
    };
    for (let i = 0; i < n; i++) visit(i, (ci) => counts[ci + 1]!++);
    for (let i = 1; i < counts.length; i++) counts[i]! += counts[i - 1]!;
    const fill = counts.slice();
    const items = new Int32Array(counts[counts.length - 1]!);
    for (let i = 0; i < n; i++) visit(i, (ci) => (items[fill[ci]!++] = i));
    this.starts = counts;
    this.items = items;
    this.fdata = Float64Array.from(d);
    this.fkinds = Uint8Array.from(this.kinds);
    this.built = true;
  }

  /** Evaluates the objects at a point into `h` (h.found false if none contains it). */
  query(x: number, y: number, z: number, h: Hit): void {
    h.found = false;
    h.prio = 0;
    h.inEmphysema = false;
    h.inConsolidation = false;
    h.clear = Infinity;
    if (!this.built) return;
    const c = this.cell;
    const i = Math.floor((x - this.x0) / c), j = Math.floor((y - this.y0) / c), k = Math.floor((z - this.z0) / c);
    if (i < 0 || j < 0 || k < 0 || i >= this.nx || j >= this.ny || k >= this.nz) return;
    const ci = (k * this.ny + j) * this.nx + i;
    const d = this.fdata, kinds = this.fkinds;
    let best = 0;
    for (let s = this.starts[ci]!, e = this.starts[ci + 1]!; s < e; s++) {
      const id = this.items[s]!, o = id * 11;
      const ax = d[o]!, ay = d[o + 1]!, az = d[o + 2]!;
      const dx = d[o + 3]! - ax, dy = d[o + 4]! - ay, dz = d[o + 5]! - az;
      const l2 = dx * dx + dy * dy + dz * dz;
      let t = l2 > 0 ? ((x - ax) * dx + (y - ay) * dy + (z - az) * dz) / l2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = x - ax - t * dx, ey = y - ay - t * dy, ez = z - az - t * dz;
      const dist = Math.sqrt(ex * ex + ey * ey + ez * ez);
      const r = d[o + 6]! + t * (d[o + 7]! - d[o + 6]!);
      const out = dist - r;
      const aout = out < 0 ? -out : out;
      if (aout < h.clear) h.clear = aout;
      const wall = d[o + 8]!;
      const ri = r - wall;
      if (wall > 0) {
        const ai = dist > ri ? dist - ri : ri - dist;
        if (ai < h.clear) h.clear = ai;
      }
      if (out >= 0) continue;
      const kind = kinds[id]!;
      if (kind === KIND.emphysema || kind === KIND.paraseptal) h.inEmphysema = true;
      else if (kind === KIND.consolidation) h.inConsolidation = true;
      const inner = wall <= 0 || dist < ri;
      const pr = inner ? PRIORITY_INNER[kind]! : PRIORITY_WALL[kind]!;
      if (pr > best) {
        best = pr;
        h.found = true;
        h.prio = pr;
        h.hu = inner ? d[o + 9]! : d[o + 10]!;
      }
    }
  }
}

/** Distance from a point to a segment. */
export function segDistance(px: number, py: number, pz: number, ax: number, ay: number, az: number, bx: number, by: number, bz: number): number {
  const dx = bx - ax, dy = by - ay, dz = bz - az;
  const l2 = dx * dx + dy * dy + dz * dz;
  let t = l2 > 0 ? ((px - ax) * dx + (py - ay) * dy + (pz - az) * dz) / l2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return Math.hypot(px - ax - t * dx, py - ay - t * dy, pz - az - t * dz);
}
