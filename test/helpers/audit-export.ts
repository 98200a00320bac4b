/** The audit export's dependencies as the runtime builds them (services/cli/runtime.ts), for a test's store and folder. */
import type { AuditExportDeps } from '../../shared/audit/audit-export.js';
import { auditDir } from '../../shared/audit/audit-files.js';
import { createLogger } from '../../shared/logger.js';
import type { Redis } from '../../shared/redis.js';
import type { CaseStore } from '../../shared/store/case-store.js';
import { redisLock } from '../../shared/store/redis-lock.js';

export function auditExportDeps(redis: Redis, store: CaseStore, dataDir: string, clock: () => Date, copy?: AuditExportDeps['copy']): AuditExportDeps {
  return {
    redis,
    stream: store.auditStream,
    lock: redisLock(redis, store.keys.auditExportLock),
    exportedKey: store.keys.auditExported,
    dir: auditDir(dataDir),
    redisWindowMs: 7 * 24 * 3600 * 1000,
    logger: createLogger({ level: 'silent' }),
    clock,
    ...(copy ? { copy } : {}),
  };
}
