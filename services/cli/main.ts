/**
 * `ildflow` — the command line (docs/design.md §5 "Commands"): start, demo, phantom, analyze, users, audit, bench.
 * Configuration problems are listed and the process exits non-zero; nothing else reads the environment.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigInvalid } from '../../shared/errors.js';

const USAGE = `ildflow — ILD analysis workflow (CPT 0877T)

  ildflow start [--role api|worker|worker:NAME[,…]]   run the API and workers (default: all in one process)
  ildflow demo [--keep]                              the whole flow on a synthetic chest CT, no PACS needed
  ildflow phantom --out DIR [--pattern P] [--seed N] [--slices N] [--size N] [--thickness MM]
                                                     write a synthetic chest CT series with ground truth
                                                     (P: normal, uip, probable_uip, nsip, emphysema)
  ildflow analyze DIR [--json]                       run the reference engine on a folder (no Redis)
  ildflow users add --id ID --name NAME --roles R[,R] [--npi NPI] [--file users.json]
                                                     create a user; prints the token once
  ildflow audit verify [--from YYYY-MM-DD] [--dir DIR]
                                                     check the audit files' hash chain; names the line where it breaks
  ildflow bench                                      print the benchmark figures

Configuration is read from the environment: see README.md "Configuration".`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./start.js')).startCommand,
  demo: async () => (await import('./demo.js')).demoCommand,
  phantom: async () => (await import('./phantom.js')).phantomCommand,
  analyze: async () => (await import('./analyze.js')).analyzeCommand,
  users: async () => (await import('./users.js')).usersCommand,
  audit: async () => (await import('./audit.js')).auditCommand,
  bench: async () => (await import('./bench.js')).benchCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      console.error(`ildflow ${name}: ${err.message}`);
      return 78; // EX_CONFIG (sysexits.h)
    }
    console.error(`ildflow ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/** Parses options strictly: an unknown flag is an error, not silently ignored. */
export function options<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], spec: T) {
  return parseArgs({ args, options: spec, allowPositionals: true, strict: true as const });
}
