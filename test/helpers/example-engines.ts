/** Starts the example engines of test/fixtures/engines as real child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const COMMAND_ENGINE = fileURLToPath(new URL('../fixtures/engines/command-engine.mjs', import.meta.url));
const HTTP_ENGINE = fileURLToPath(new URL('../fixtures/engines/http-engine.mjs', import.meta.url));

export type ExampleHttpEngine = Readonly<{
  url: string;
  process: ChildProcess;
  stats(): Promise<{ posts: number; polls: number; parts: number }>;
  setMode(mode: string): Promise<void>;
  stop(): Promise<void>;
}>;

export async function startHttpEngine(mode: string): Promise<ExampleHttpEngine> {
  const child = spawn(process.execPath, [HTTP_ENGINE, '--mode', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`example http engine exited (${code}) before listening`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    process: child,
    stats: async () => (await fetch(`${url}/stats`)).json() as Promise<{ posts: number; polls: number; parts: number }>,
    setMode: async (m) => {
      await fetch(`${url}/mode/${m}`, { method: 'PUT' });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}
