/**
 * `ildflow audit verify [--from YYYY-MM-DD] [--dir DIR]`: checks the audit files' hash chain
 * (docs/operations.md "The audit trail") and says where it breaks. Exit 0 when whole, 1 when broken. When
 * Redis answers, the chain's head there also covers the last line, which no later line does.
 */
import { auditDir } from '../../shared/audit/audit-files.js';
import { parseHead, type ChainHead } from '../../shared/audit/audit-chain.js';
import { verifyAuditFiles } from '../../shared/audit/verify-audit-files.js';
import { loadStorageConfig } from '../../shared/config.js';
import { connectRedis, pingRedis } from '../../shared/redis.js';
import { caseKeys } from '../../shared/store/keys.js';
import { options } from './main.js';

const USAGE = 'usage: ildflow audit verify [--from YYYY-MM-DD] [--dir DIR]';

export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'verify') throw new Error(USAGE);
  const { values } = options(rest, { from: { type: 'string' }, dir: { type: 'string' } });
  const from = values.from as string | undefined;
  if (from !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(from) || Number.isNaN(Date.parse(from)))) throw new Error(`--from must be a date, YYYY-MM-DD (got ${JSON.stringify(from)})\n${USAGE}`);
  const config = loadStorageConfig();
  const dir = (values.dir as string | undefined) ?? auditDir(config.ILDFLOW_DATA_DIR);
  const head = await redisHead(config.REDIS_URL, caseKeys(config.ILDFLOW_REDIS_PREFIX).auditHead);
  const out = await verifyAuditFiles(dir, { fromDay: from, head });
  if (!out.ok) {
    console.error(`audit chain broken at ${out.broken.file}:${out.broken.line}: ${out.broken.problem}`);
    console.error(`(${out.entries} entries before it verified, in ${dir})`);
    return 1;
  }
  const last = out.last ? `, up to entry ${out.last.seq} (sha256 ${out.last.hash})` : '';
  console.log(`audit chain intact: ${out.entries} entries in ${out.files} file(s) of ${dir}${last}`);
  if (head === undefined) console.log('Redis did not answer: the last line was checked against nothing after it');
  else if (head && out.last && head.seq > out.last.seq) console.log(`Redis holds entries up to ${head.seq}: the export has not written them yet (or the files' last lines were removed)`);
  return 0;
}

/** The chain's head in Redis: null when there is none, undefined when Redis does not answer. */
async function redisHead(url: string, key: string): Promise<ChainHead | null | undefined> {
  try {
    await pingRedis(url, 1000);
  } catch {
    return undefined;
  }
  const redis = connectRedis(url, { name: 'ildflow-audit-verify' });
  try {
    return parseHead(await redis.get(key));
  } finally {
    redis.disconnect();
  }
}
