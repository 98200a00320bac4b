/**
 * The process main.ts starts for each case: `node [--import tsx] tools/validate/child.(ts|js) '<CaseSpec>'`.
 * Prints the row as the last line of stdout; anything else (a crash, running out of memory) is a non-zero
 * exit with the reason on stderr.
 */
import type { CaseSpec } from './cases.js';
import { runCase } from './run-case.js';

const arg = process.argv[2];
if (!arg) {
  process.stderr.write('usage: child.ts <case JSON>\n');
  process.exit(2);
}
try {
  const row = await runCase(JSON.parse(arg) as CaseSpec);
  process.stdout.write(`${JSON.stringify(row)}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
