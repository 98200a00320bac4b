/** The process entry of the `ildflow` command (bin/ildflow.js loads its compiled form; tests run it with tsx). */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
