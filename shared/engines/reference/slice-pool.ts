/**
 * Both cores for the per-slice stages (issue #10: "worker threads over slabs of a shared volume"). A
 * stage's slices are cut into contiguous slabs of about equal work; this thread runs the first while
 * helper threads run the others, all on the same SharedArrayBuffers (threads.ts). Each slab writes only
 * its own slices and results come back in slice order, with counts as integers, so the analysis is
 * byte-identical on any number of threads.
 */
import type { Worker } from 'node:worker_threads';
import { runSlab, type SlabInput, type SlabOutput, type SlabRequest, type SlabTask } from './slab-tasks.js';
import { startSiblingThread } from './threads.js';

type Reply = { ok: true; value: unknown } | { ok: false; error: string };

export type SlicePool = {
  /** Slabs the pool cuts a stage into: one per thread. */
  readonly parts: number;
  /** Runs `task` on each slab [z0, z1] (inclusive) of `cuts`, the first in this thread; results in order. */
  run<T extends SlabTask>(task: T, input: SlabInput<T>, cuts: readonly (readonly [number, number])[]): Promise<SlabOutput<T>[]>;
  close(): Promise<void>;
};

/**
 * Starts `threads − 1` helper threads now, so their start-up overlaps the stages before the first slab.
 * Every typed array in an input must be on shared memory, or each helper works on a copy.
 */
export function openSlicePool(threads: number): SlicePool {
  const helpers: Worker[] = [];
  // A helper that fails while idle (its module did not load, say) must not crash the process with an
  // unhandled 'error' event: the failure is kept and the next stage is refused with it.
  let broken: Error | null = null;
  for (let i = 1; i < threads; i++) {
    const worker = startSiblingThread(import.meta.url, 'slice-thread');
    worker.on('error', (err) => void (broken ??= err));
    helpers.push(worker);
  }
  return {
    parts: threads,
    async run(task, input, cuts) {
      if (broken) throw new Error(`reference engine slice thread failed: ${broken.message}`);
      if (cuts.length > helpers.length + 1) throw new Error(`slice pool: ${cuts.length} slabs for ${helpers.length + 1} threads`);
      // Post the helpers' slabs first, then work on the first one here while they run.
      const pending = cuts.slice(1).map(([z0, z1], i) => ask(helpers[i]!, { task, input, z0, z1 }));
      const first = cuts.length ? [runSlab({ task, input, z0: cuts[0]![0], z1: cuts[0]![1] })] : [];
      return [...first, ...(await Promise.all(pending))] as SlabOutput<typeof task>[];
    },
    async close() {
      await Promise.all(helpers.map((w) => w.terminate()));
    },
  };
}

/** Up to `parts` contiguous, non-empty ranges of z0…z1 of about equal `work` (per slice; all 1 = slices). */
export function slabCuts(z0: number, z1: number, parts: number, work?: ArrayLike<number>): [number, number][] {
  if (z1 < z0) return [];
  const at = (z: number): number => (work ? work[z]! : 1);
  let total = 0;
  for (let z = z0; z <= z1; z++) total += at(z);
  const cuts: [number, number][] = [];
  let start = z0, acc = 0;
  for (let z = z0; z < z1; z++) {
    acc += at(z);
    // Cut after z when that is nearer the slab's share than cutting after the next slice.
    if (cuts.length + 1 < parts && acc + at(z + 1) / 2 >= (total * (cuts.length + 1)) / parts) {
      cuts.push([start, z]);
      start = z + 1;
    }
  }
  cuts.push([start, z1]);
  return cuts;
}

function ask(worker: Worker, req: SlabRequest): Promise<never> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => { worker.off('message', onMessage); reject(err); };
    const onMessage = (reply: Reply): void => {
      worker.off('error', onError);
      if (reply.ok) resolve(reply.value as never);
      else reject(new Error(`reference engine slice thread failed: ${reply.error}`));
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.postMessage(req);
  });
}
