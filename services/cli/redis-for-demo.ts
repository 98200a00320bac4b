/**
 * Finds a Redis for the demo: the one at REDIS_URL if it answers; otherwise a private `redis-server` on a
 * free loopback port (stopped afterwards) when the binary is installed; otherwise says how to get Redis.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { pingRedis } from '../../shared/redis.js';

export type DemoRedis = Readonly<{ url: string; private: boolean; stop(): Promise<void> }>;

export async function redisForDemo(url: string): Promise<DemoRedis> {
  try {
    await pingRedis(url);
    return { url, private: false, stop: async () => {} };
  } catch {
    // fall through to a private server
  }
  if (spawnSync('redis-server', ['--version']).status !== 0)
    throw new Error(
      `no Redis answers at ${url} and redis-server is not installed.\n` +
        '  Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n' +
        '  or point REDIS_URL at a running Redis 7.',
    );
  const port = await freePort();
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const privateUrl = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await pingRedis(privateUrl, 300);
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill();
        throw new Error(`could not start a private redis-server on port ${port}: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url: privateUrl, private: true, stop: () => stopChild(child) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}
