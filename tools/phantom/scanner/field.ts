/**
 * Small deterministic helpers: an integer hash (for lattice-based textures that need no stored state),
 * smooth value noise (irregular region margins, slow density variation) and a Gaussian draw.
 */
import { mulberry32 } from '../../../shared/phantom/generate-phantom.js';

/** Hash of three lattice integers and a seed to [0, 1). */
export function hash3(i: number, j: number, k: number, seed: number): number {
  let h = Math.imul(i, 374761393) ^ Math.imul(j, 668265263) ^ Math.imul(k, 1440662683) ^ Math.imul(seed, 1274126177);
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return ((h ^ (h >>> 13)) >>> 0) / 4294967296;
}

/**
 * Trilinear value noise in [-1, 1] with feature size `scaleMm`: smooth, cheap, and stateless, so two
 * points far apart are independent and a region's margin becomes irregular instead of an offset surface.
 */
export function valueNoise3(x: number, y: number, z: number, scaleMm: number, seed: number): number {
  const fx = x / scaleMm, fy = y / scaleMm, fz = z / scaleMm;
  const i = Math.floor(fx), j = Math.floor(fy), k = Math.floor(fz);
  const u = smooth(fx - i), v = smooth(fy - j), w = smooth(fz - k);
  const h000 = hash3(i, j, k, seed), h100 = hash3(i + 1, j, k, seed), h010 = hash3(i, j + 1, k, seed), h110 = hash3(i + 1, j + 1, k, seed);
  const h001 = hash3(i, j, k + 1, seed), h101 = hash3(i + 1, j, k + 1, seed), h011 = hash3(i, j + 1, k + 1, seed), h111 = hash3(i + 1, j + 1, k + 1, seed);
  const x00 = h000 + u * (h100 - h000);
  const x10 = h010 + u * (h110 - h010);
  const x01 = h001 + u * (h101 - h001);
  const x11 = h011 + u * (h111 - h011);
  const y0 = x00 + v * (x10 - x00), y1 = x01 + v * (x11 - x01);
  return 2 * (y0 + w * (y1 - y0)) - 1;
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** A seeded uniform stream plus Gaussian and range helpers. */
export type Rng = { u: () => number; between: (lo: number, hi: number) => number; gauss: () => number; int: (n: number) => number };

/** Wraps mulberry32 (the legacy phantom's PRNG) with the helpers every module needs. */
export function makeRng(seed: number): Rng {
  const u = mulberry32(seed);
  return {
    u,
    between: (lo, hi) => lo + (hi - lo) * u(),
    int: (n) => Math.floor(u() * n),
    gauss: () => {
      const a = 1 - u();
      return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
    },
  };
}

/** A seed for a named sub-stream, so adding draws in one module never shifts another module's numbers. */
export function subSeed(seed: number, name: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 2654435761) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * Value noise pre-sampled on a coarse grid and read back trilinearly: the region margins use noise
 * with 15–25 mm features, so a 3 mm grid loses nothing visible and costs one lookup instead of eight
 * hashes per point.
 */
export class NoiseGrid {
  private readonly v: Float32Array;
  private readonly nx: number; private readonly ny: number; private readonly nz: number;
  constructor(private readonly x0: number, private readonly y0: number, private readonly z0: number, size: [number, number, number], private readonly step: number, scaleMm: number, seed: number) {
    this.nx = Math.ceil(size[0] / step) + 2;
    this.ny = Math.ceil(size[1] / step) + 2;
    this.nz = Math.ceil(size[2] / step) + 2;
    this.v = new Float32Array(this.nx * this.ny * this.nz);
    for (let k = 0; k < this.nz; k++)
      for (let j = 0; j < this.ny; j++)
        for (let i = 0; i < this.nx; i++)
          this.v[(k * this.ny + j) * this.nx + i] = valueNoise3(x0 + i * step, y0 + j * step, z0 + k * step, scaleMm, seed);
  }
  sample(x: number, y: number, z: number): number {
    const fx = Math.min(this.nx - 1.001, Math.max(0, (x - this.x0) / this.step));
    const fy = Math.min(this.ny - 1.001, Math.max(0, (y - this.y0) / this.step));
    const fz = Math.min(this.nz - 1.001, Math.max(0, (z - this.z0) / this.step));
    const i = Math.floor(fx), j = Math.floor(fy), k = Math.floor(fz);
    const u = fx - i, w = fy - j, t = fz - k;
    const v = this.v, sy = this.nx, sz = this.nx * this.ny, o = (k * this.ny + j) * this.nx + i;
    const c00 = v[o]! + u * (v[o + 1]! - v[o]!);
    const c10 = v[o + sy]! + u * (v[o + sy + 1]! - v[o + sy]!);
    const c01 = v[o + sz]! + u * (v[o + sz + 1]! - v[o + sz]!);
    const c11 = v[o + sz + sy]! + u * (v[o + sz + sy + 1]! - v[o + sz + sy]!);
    const a0 = c00 + w * (c10 - c00), a1 = c01 + w * (c11 - c01);
    return a0 + t * (a1 - a0);
  }
}
