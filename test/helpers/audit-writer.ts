/**
 * A separate process that writes audit entries, for the test that several processes write one chain:
 * `node --import tsx audit-writer.ts REDIS_URL PREFIX USER COUNT` appends COUNT entries, 8 at a time.
 */
import { connectRedis } from '../../shared/redis.js';
import { createCaseStore } from '../../shared/store/case-store.js';

const [url, prefix, user, count] = process.argv.slice(2) as [string, string, string, string];
const redis = connectRedis(url, { name: `audit-writer-${user}` });
const store = createCaseStore(redis, prefix);
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (next < Number(count)) {
      const i = next++;
      await store.audit({ userId: user, action: 'case.read', caseId: `case-${user}-${i}`, ip: '127.0.0.1' });
    }
  }),
);
await redis.quit();
