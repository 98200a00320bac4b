/** Builds the engine named by ILDFLOW_ENGINE (docs/design.md §5 "Configuration", "The engine contract"). */
import { ConfigInvalid, EngineFailed } from '../errors.js';
import type { IldEngine } from './contract.js';
import { createCommandEngine } from './external/command-engine.js';
import { DEFAULT_ENGINE_TIMEOUT_MS, deadline } from './external/external.js';
import { createHttpEngine } from './external/http-engine.js';
import { createReferenceEngine } from './reference/index.js';

export type CreateEngineOptions = Readonly<{
  /** Bound on one analysis (ILDFLOW_ENGINE_TIMEOUT_SECONDS × 1000). */
  timeoutMs?: number;
  /** Threads per reference-engine analysis (ILDFLOW_ENGINE_THREADS; 0 = every core). */
  threads?: number;
}>;

/**
 * @param spec - `reference`, `http(s)://host/path` or `command:/path/to/program [args…]`.
 * @throws ConfigInvalid for a spec no adapter understands (caught at start-up, not per case).
 */
export function createEngine(spec: string, opts: CreateEngineOptions = {}): IldEngine {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS;
  if (spec === 'reference') return withTimeout(createReferenceEngine({ threads: opts.threads ?? 0 }), timeoutMs);
  if (/^https?:\/\//.test(spec)) {
    try {
      new URL(spec);
    } catch {
      throw new ConfigInvalid([`ILDFLOW_ENGINE: ${spec} is not a valid URL`]);
    }
    return createHttpEngine(spec, { timeoutMs });
  }
  if (spec.startsWith('command:')) {
    const rest = spec.slice('command:'.length).trim();
    if (!rest.startsWith('/')) throw new ConfigInvalid(['ILDFLOW_ENGINE: command: needs an absolute program path (command:/path/to/program)']);
    return createCommandEngine(rest, { timeoutMs });
  }
  throw new ConfigInvalid([`ILDFLOW_ENGINE: ${spec.split(':')[0]} is not an engine kind; use reference, http(s)://… or command:/path`]);
}

/** Bounds an in-process engine: past the timeout its work is aborted (the reference thread terminated). */
function withTimeout(engine: IldEngine, timeoutMs: number): IldEngine {
  return {
    descriptor: engine.descriptor,
    async analyze(input, signal) {
      const d = deadline(signal, timeoutMs);
      try {
        return await engine.analyze(input, d.signal);
      } catch (err) {
        if (d.timedOut()) throw new EngineFailed(`${engine.descriptor.name} did not finish within ${timeoutMs / 1000} s`, { retryable: true });
        throw err;
      } finally {
        d.clear();
      }
    },
  };
}
