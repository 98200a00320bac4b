/**
 * The flow figures of `ildflow bench` (docs/design.md §8, issue #7): end to end through a local Orthanc
 * (bench-e2e.ts), throughput of 50 cases at once (bench-throughput.ts) and the review queue under load
 * (bench-api.ts). They need Redis: the one at REDIS_URL, else a private redis-server (as the demo does),
 * always under a private key prefix that each section deletes.
 */
import { benchApi } from './bench-api.js';
import { benchEndToEnd } from './bench-e2e.js';
import { benchThroughput } from './bench-throughput.js';
import { redisForDemo } from './redis-for-demo.js';

export async function benchFlow(seriesDir: string, redisUrl: string): Promise<void> {
  const redis = await redisForDemo(redisUrl);
  try {
    await benchEndToEnd(seriesDir, { redisUrl: redis.url });
    const sample = await benchThroughput(redis.url);
    if (!sample) {
      console.log('api: skipped (the throughput run produced no case to seed from)');
      return;
    }
    await benchApi(sample, { redisUrl: redis.url });
  } finally {
    await redis.stop();
  }
}
