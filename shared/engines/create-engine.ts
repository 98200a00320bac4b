/** Builds the engine named by ILDFLOW_ENGINE (DESIGN.md §5 "Configuration", "The engine contract"). */
import { ConfigInvalid } from '../errors.js';
import type { IldEngine } from './contract.js';
import { createReferenceEngine } from './reference/index.js';

export function createEngine(spec: string): IldEngine {
  if (spec === 'reference') return createReferenceEngine();
  // The http and command adapters are built by the engines issue (#4); until they land, refuse at
  // start-up rather than fail every case later.
  throw new ConfigInvalid([`ILDFLOW_ENGINE: ${spec.split(':')[0]} engines are not available in this build; use reference`]);
}
