/** The process entry of the `ildflow` command (bin/ildflow.js loads its compiled form; tests run it with tsx). */
import { main } from './main.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A command that failed exits once its output is written: `start` may have opened Redis connections and
// started workers before the failure (a package missing from the install, say), which would otherwise keep
// a half-started process alive.
if (code !== 0) process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
