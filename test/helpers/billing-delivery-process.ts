/**
 * A billing delivery worker as its own process, for the crash test: started with
 * `node --import tsx test/helpers/billing-delivery-process.ts`, configured by the environment like
 * `ildflow start --role worker:billing`, with short lock and poll times. Killed with SIGKILL by the test.
 */
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { connectRedis } from '../../shared/redis.js';
import { startBillingDelivery } from '../../workers/billing/start-delivery.js';

// The API test harness's prefixes (`test-<uuid>`) are longer than ILDFLOW_REDIS_PREFIX allows: TEST_PREFIX overrides it.
const loaded = loadConfig({ ...process.env, ILDFLOW_USERS_FILE: '(unused)' }, { pacsRequired: false });
const config = { ...loaded, ILDFLOW_REDIS_PREFIX: process.env.TEST_PREFIX ?? loaded.ILDFLOW_REDIS_PREFIX };
const redis = connectRedis(config.REDIS_URL, { name: 'billing-delivery-test' });
const delivery = await startBillingDelivery(
  { config, redis, logger: createLogger({ level: 'info' }) },
  { lockTtlMs: Number(process.env.TEST_LOCK_TTL_MS ?? 1000), pollMs: 25, connectTimeoutMs: 1000 },
);
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void delivery.close().then(() => redis.quit().then(() => process.exit(0)));
});
