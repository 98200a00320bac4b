/**
 * Distance from a lung point to the pleura (any lung boundary: costal, mediastinal, diaphragmatic), from a
 * Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance transforms of sampled functions",
 * Theory of Computing 2012) of the lung envelope on a 2 mm grid, read back trilinearly. Subpleural bands
 * (UIP reticulation, the NSIP spared rim, paraseptal emphysema) are defined on this depth.
 */
import type { Anatomy } from './anatomy.js';

export type DepthMap = {
  /** mm from the pleura (0 outside the lungs, at most a grid step off at the surface). */
  depth: (x: number, y: number, z: number) => number;
  /** Unit gradient of depth (points away from the nearest pleura), written into `out`. */
  gradient: (x: number, y: number, z: number, out: number[]) => void;
  /** Patient z of the highest and lowest lung grid point. */
  zTop: number; zBottom: number;
  /** Lung grid points (centres) for region volume estimates: visits x, y, z, depth, side. */
  forEach: (fn: (x: number, y: number, z: number, d: number, side: number) => void) => void;
  step: number;
  bounds: { x0: number; y0: number; z0: number; nx: number; ny: number; nz: number };
};

const INF = 1e20;

/** 1-D squared distance transform of f (length n) into d, using scratch v, zz. */
function dt1(f: Float64Array, d: Float64Array, n: number, v: Int32Array, zz: Float64Array): void {
  let k = 0;
  v[0] = 0;
  zz[0] = -INF;
  zz[1] = INF;
  for (let q = 1; q < n; q++) {
    let s = ((f[q]! + q * q) - (f[v[k]!]! + v[k]! * v[k]!)) / (2 * q - 2 * v[k]!);
    while (s <= zz[k]!) {
      k--;
      s = ((f[q]! + q * q) - (f[v[k]!]! + v[k]! * v[k]!)) / (2 * q - 2 * v[k]!);
    }
    k++;
    v[k] = q;
    zz[k] = s;
    zz[k + 1] = INF;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (zz[k + 1]! < q) k++;
    d[q] = (q - v[k]!) ** 2 + f[v[k]!]!;
  }
}

export function buildDepthMap(a: Anatomy, step = 2): DepthMap {
  const p = a.patient;
  const x0 = -p.ca * p.sxy - 2 * step, y0 = p.yBody - p.cb * p.sxy - 2 * step, z0 = p.zApex - 322 * p.sz;
  const nx = Math.ceil((2 * p.ca * p.sxy + 4 * step) / step) + 1;
  const ny = Math.ceil((2 * p.cb * p.sxy + 4 * step) / step) + 1;
  const nz = Math.ceil((322 * p.sz + 2 * step) / step) + 1;
  const n = nx * ny * nz;
  const side = new Uint8Array(n);
  const g = new Float64Array(n);
  let zLo = Infinity, zHi = -Infinity;
  for (let k = 0; k < nz; k++) {
    const z = z0 + k * step;
    const Zc = (z - p.zApex) / p.sz;
    for (let j = 0; j < ny; j++) {
      const Y = (y0 + j * step - p.yBody) / p.sxy;
      for (let i = 0; i < nx; i++) {
        const s = a.lungSideCanon((x0 + i * step) / p.sxy, Y, Zc);
        const o = (k * ny + j) * nx + i;
        side[o] = s;
        g[o] = s ? INF : 0;
        if (s) {
          if (z < zLo) zLo = z;
          if (z > zHi) zHi = z;
        }
      }
    }
  }
  // Separable squared EDT along x, y, z.
  const m = Math.max(nx, ny, nz);
  const f = new Float64Array(m), d = new Float64Array(m), v = new Int32Array(m), zz = new Float64Array(m + 1);
  const pass = (len: number, count: number, index: (c: number, q: number) => number): void => {
    for (let c = 0; c < count; c++) {
      for (let q = 0; q < len; q++) f[q] = g[index(c, q)]!;
      dt1(f, d, len, v, zz);
      for (let q = 0; q < len; q++) g[index(c, q)] = d[q]!;
    }
  };
  pass(nx, ny * nz, (c, q) => c * nx + q);
  pass(ny, nx * nz, (c, q) => (Math.floor(c / nx) * ny + q) * nx + (c % nx));
  pass(nz, nx * ny, (c, q) => q * nx * ny + c);
  const dist = new Float32Array(n);
  // Distance to the nearest outside grid point, less half a step: the surface lies between them.
  for (let o = 0; o < n; o++) dist[o] = side[o] ? Math.max(0, Math.sqrt(g[o]!) * step - step / 2) : 0;

  const depth = (x: number, y: number, z: number): number => {
    const fx = (x - x0) / step, fy = (y - y0) / step, fz = (z - z0) / step;
    const i = Math.floor(fx), j = Math.floor(fy), k = Math.floor(fz);
    if (i < 0 || j < 0 || k < 0 || i >= nx - 1 || j >= ny - 1 || k >= nz - 1) return 0;
    const u = fx - i, w = fy - j, t = fz - k;
    const o = (k * ny + j) * nx + i, sy = nx, sz = nx * ny;
    const c00 = dist[o]! + u * (dist[o + 1]! - dist[o]!);
    const c10 = dist[o + sy]! + u * (dist[o + sy + 1]! - dist[o + sy]!);
    const c01 = dist[o + sz]! + u * (dist[o + sz + 1]! - dist[o + sz]!);
    const c11 = dist[o + sz + sy]! + u * (dist[o + sz + sy + 1]! - dist[o + sz + sy]!);
    const a0 = c00 + w * (c10 - c00), a1 = c01 + w * (c11 - c01);
    return a0 + t * (a1 - a0);
  };
  const gradient = (x: number, y: number, z: number, out: number[]): void => {
    const h = step;
    const gx = depth(x + h, y, z) - depth(x - h, y, z);
    const gy = depth(x, y + h, z) - depth(x, y - h, z);
    const gz = depth(x, y, z + h) - depth(x, y, z - h);
    const l = Math.hypot(gx, gy, gz) || 1;
    out[0] = gx / l;
    out[1] = gy / l;
    out[2] = gz / l;
  };
  const forEach = (fn: (x: number, y: number, z: number, d: number, side: number) => void): void => {
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const o = (k * ny + j) * nx + i;
          if (side[o]) fn(x0 + i * step, y0 + j * step, z0 + k * step, dist[o]!, side[o]!);
        }
  };
  return { depth, gradient, zTop: zHi, zBottom: zLo, forEach, step, bounds: { x0, y0, z0, nx, ny, nz } };
}
