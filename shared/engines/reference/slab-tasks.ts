/**
 * The per-slice stages the slice pool runs on slabs (slice-pool.ts): each reads the shared volume and
 * writes only its own slices' part of a shared output, so any cut into slabs gives the same bytes.
 */
import { markHolesSlice, type HoleInput } from './air-holes.js';
import { markOutside } from './body.js';
import { createClassifier, type SliceInput, type SliceStats } from './classify.js';
import { denoiseSlab, type DenoiseInput } from './denoise.js';
import { closeAndFillSlice, closeFillScratch, markCandidates, type CandidateInput, type CloseFillInput } from './lung-mask.js';

export type Slab = { stats: SliceStats[]; histogram: Float64Array };

export const SLAB_TASKS = {
  /** Outside air and body, per slice (body.ts). */
  outside(inp: { hu: Int16Array; labels: Uint8Array; w: number; h: number }, z0: number, z1: number): null {
    const n = inp.w * inp.h;
    const stack = new Int32Array(n);
    for (let z = z0; z <= z1; z++) markOutside(inp.hu, z * n, inp.w, inp.h, inp.labels, stack);
    return null;
  },
  /** Candidate lung air, per slice (lung-mask.ts). */
  candidates(inp: CandidateInput, z0: number, z1: number): null {
    for (let z = z0; z <= z1; z++) markCandidates(inp, z);
    return null;
  },
  /** The lung's closing and hole filling, per slice (lung-mask.ts); lung voxels and box of each slice. */
  closeAndFill(inp: CloseFillInput, z0: number, z1: number): Int32Array {
    const out = new Int32Array(5 * (z1 - z0 + 1));
    const scratch = closeFillScratch(inp.w, inp.h);
    for (let z = z0; z <= z1; z++) closeAndFillSlice(inp, z, out.subarray(5 * (z - z0), 5 * (z - z0 + 1)), scratch);
    return out;
  },
  denoise(inp: DenoiseInput, z0: number, z1: number): null {
    denoiseSlab(inp, z0, z1);
    return null;
  },
  /** Air holes in the lungs' box, per slice (air-holes.ts). */
  holes(inp: HoleInput, z0: number, z1: number): null {
    for (let z = z0; z <= z1; z++) markHolesSlice(inp, z);
    return null;
  },
  /** The six classes (classify.ts): per-slice counts and this slab's histogram. */
  classify(inp: SliceInput & { classMap?: Uint8Array }, z0: number, z1: number): Slab {
    const classifier = createClassifier(inp);
    const stats: SliceStats[] = [];
    for (let z = z0; z <= z1; z++) stats.push(classifier.classify(z, inp.classMap));
    return { stats, histogram: classifier.histogram };
  },
} as const;

export type SlabTask = keyof typeof SLAB_TASKS;
export type SlabInput<T extends SlabTask> = Parameters<(typeof SLAB_TASKS)[T]>[0];
export type SlabOutput<T extends SlabTask> = ReturnType<(typeof SLAB_TASKS)[T]>;
export type SlabRequest = { task: SlabTask; input: unknown; z0: number; z1: number };

/** Runs one request in this thread. */
export function runSlab(req: SlabRequest): unknown {
  const task = SLAB_TASKS[req.task] as (input: unknown, z0: number, z1: number) => unknown;
  return task(req.input, req.z0, req.z1);
}
