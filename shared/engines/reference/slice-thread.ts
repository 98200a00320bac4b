/**
 * A helper thread of the slice pool (slice-pool.ts): runs the slab it is sent (slab-tasks.ts), reading
 * and writing the volume's shared arrays in place, and answers each request with the slab's result.
 */
import { parentPort } from 'node:worker_threads';
import { runSlab, type SlabRequest } from './slab-tasks.js';

parentPort!.on('message', (req: SlabRequest) => {
  try {
    parentPort!.postMessage({ ok: true, value: runSlab(req) });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
