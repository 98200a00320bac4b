/**
 * Threads of the reference engine: starting a sibling module as a worker thread (compiled or under tsx),
 * and typed arrays on shared memory, so threads read one volume without copying it.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Starts the sibling module `name` (without extension) of the module at `base` (its `import.meta.url`)
 * as a worker thread. Compiled, the sibling is a .js file. Under vitest or tsx it is a .ts file: the
 * thread must load tsx's loader before importing TypeScript, and Node 20 does not apply
 * `execArgv: ['--import', 'tsx']` to a worker's entry module, so a two-line bootstrap registers tsx (its
 * documented `tsx/esm/api` register()) and then imports the entry.
 */
export function startSiblingThread(base: string, name: string, workerData?: unknown): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), { workerData });
  const entry = new URL(`./${name}.ts`, base).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

type TypedArrayCtor<T> = { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };

/** A zeroed typed array of `length` elements on a SharedArrayBuffer. */
export function sharedArray<T>(Ctor: TypedArrayCtor<T>, length: number): T {
  return new Ctor(new SharedArrayBuffer(length * Ctor.BYTES_PER_ELEMENT));
}

/** The array itself when it is on shared memory; else one shared copy (a volume built in a test). */
export function asShared<T extends Int16Array | Uint8Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const copy = new (a.constructor as TypedArrayCtor<T>)(new SharedArrayBuffer(a.byteLength)) as unknown as T;
  copy.set(a);
  return copy;
}

/** Threads for an analysis: `requested` (ILDFLOW_ENGINE_THREADS; 0 = every core this process may use). */
export function threadCount(requested = 0): number {
  return requested > 0 ? requested : availableParallelism();
}
