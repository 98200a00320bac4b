/** `ildflow start`: runs the API and/or workers until SIGTERM or SIGINT, then shuts down gracefully. */
import { loadConfig } from '../../shared/config.js';
import { options } from './main.js';
import { openRuntime, parseRoles } from './runtime.js';

export async function startCommand(args: string[]): Promise<number> {
  const { values } = options(args, { role: { type: 'string', default: 'api,worker' } });
  const roles = parseRoles(values.role as string);
  const config = loadConfig();
  const runtime = await openRuntime(config, { roles });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  runtime.logger.info({ signal }, 'shutting down: finishing running jobs');
  await runtime.close();
  runtime.logger.info('stopped');
  return 0;
}
