#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/services/cli/entry.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('ildflow is not built yet: run `npm ci` (or `npm run build`) first.');
  process.exit(1);
}
await import(entry.href);
