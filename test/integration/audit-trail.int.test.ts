/**
 * The audit trail kept and tamper-evident (issue 17): entries from several processes form one chain, the
 * export writes it to daily files in order across days and restarts, and `ildflow audit verify` names the
 * line where an altered or deleted entry breaks it. Real Redis, real processes, real files.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRecord } from '../../shared/audit/audit-chain.js';
import { exportAuditOnce, type AuditExportDeps } from '../../shared/audit/audit-export.js';
import { auditDir, auditFiles } from '../../shared/audit/audit-files.js';
import { connectRedis, type Redis } from '../../shared/redis.js';
import { createCaseStore, type CaseStore } from '../../shared/store/case-store.js';
import { deleteKeys, newPrefix, TEST_REDIS_URL } from '../helpers/redis-keys.js';
import { spawnIldflow } from '../helpers/processes.js';
import { auditExportDeps } from '../helpers/audit-export.js';

const WRITER = fileURLToPath(new URL('../helpers/audit-writer.ts', import.meta.url));

let redis: Redis;
let prefix: string;
let dataDir: string;
let now: Date;
let store: CaseStore;

beforeEach(async () => {
  redis = connectRedis(TEST_REDIS_URL);
  prefix = newPrefix('audit');
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'ildflow-audit-'));
  now = new Date('2026-12-01T23:59:58Z');
  store = createCaseStore(redis, prefix, () => now);
});

afterEach(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await rm(dataDir, { recursive: true, force: true });
});

function exportDeps(s: CaseStore = store): AuditExportDeps {
  return auditExportDeps(redis, s, dataDir, () => now);
}

async function allLines(): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const f of await auditFiles(auditDir(dataDir)))
    for (const text of (await readFile(path.join(auditDir(dataDir), f.name), 'utf8')).split('\n').filter(Boolean)) out.push({ file: f.name, text });
  return out;
}

async function verify(args: string[] = []): Promise<{ code: number; output: string }> {
  const p = spawnIldflow(['audit', 'verify', ...args], { REDIS_URL: TEST_REDIS_URL, ILDFLOW_REDIS_PREFIX: prefix, ILDFLOW_DATA_DIR: dataDir });
  const code = await new Promise<number>((resolve) => p.child.once('exit', (c) => resolve(c ?? -1)));
  return { code, output: p.output() };
}

function runWriter(user: string, count: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, TEST_REDIS_URL, prefix, user, String(count)], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
}

async function editLines(file: string, edit: (lines: string[]) => void): Promise<void> {
  const p = path.join(auditDir(dataDir), file);
  const lines = (await readFile(p, 'utf8')).split('\n').filter(Boolean);
  edit(lines);
  await writeFile(p, lines.map((l) => `${l}\n`).join(''));
}

describe('the audit trail', () => {
  it('is one chain, in order, when three processes write to it at once', async () => {
    expect(await Promise.all(['u-a', 'u-b', 'u-c'].map((u) => runWriter(u, 40)))).toEqual([0, 0, 0]);
    expect(await exportAuditOnce(exportDeps())).toBe(120);
    const records = (await allLines()).map((l) => parseRecord(l.text)!);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(new Set(records.map((r) => r.caseId)).size).toBe(120);
    const v = await verify();
    expect(v.output).toContain('audit chain intact: 120 entries');
    expect(v.code).toBe(0);
  });

  it('goes on across days and across a restart, and a second export writes nothing twice', async () => {
    for (let i = 0; i < 3; i++) await store.audit({ userId: 'u-1', action: 'case.read', caseId: `c-${i}` });
    expect(await exportAuditOnce(exportDeps())).toBe(3);
    expect(await exportAuditOnce(exportDeps())).toBe(0);
    now = new Date('2026-12-02T00:00:03Z');
    // A restarted process: a new connection and store, the same Redis and files.
    const again = createCaseStore(redis, prefix, () => now);
    for (let i = 3; i < 6; i++) await again.audit({ userId: 'u-1', action: 'case.read', caseId: `c-${i}` });
    // The export lost its cursor (as after a crash before recording it): the files say where they stand.
    await redis.del(again.keys.auditExported);
    expect(await exportAuditOnce(exportDeps(again))).toBe(3);
    const lines = await allLines();
    expect(lines.map((l) => l.file)).toEqual([...Array(3).fill('audit-2026-12-01.jsonl'), ...Array(3).fill('audit-2026-12-02.jsonl')]);
    expect(lines.map((l) => parseRecord(l.text)!.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await verify()).code).toBe(0);
    const fromDay2 = await verify(['--from', '2026-12-02']);
    expect(fromDay2.output).toContain('audit chain intact: 3 entries');
    expect(fromDay2.code).toBe(0);
  });

  it('continues the chain from the files when Redis lost its head', async () => {
    for (let i = 0; i < 2; i++) await store.audit({ userId: 'u-1', action: 'case.read' });
    await exportAuditOnce(exportDeps());
    await redis.del(store.keys.auditHead, store.keys.audit, store.keys.auditExported);
    await exportAuditOnce(exportDeps()); // restores the head from the files
    await store.audit({ userId: 'u-1', action: 'case.read' });
    await exportAuditOnce(exportDeps());
    expect((await allLines()).map((l) => parseRecord(l.text)!.seq)).toEqual([1, 2, 3]);
    expect((await verify()).code).toBe(0);
  });

  describe('ildflow audit verify', () => {
    beforeEach(async () => {
      for (let i = 0; i < 10; i++) await store.audit({ userId: 'u-1', action: 'case.read', caseId: `c-${i}`, ip: '10.0.0.1' });
      await exportAuditOnce(exportDeps());
    });

    it('fails at the line that was altered', async () => {
      await editLines('audit-2026-12-01.jsonl', (lines) => (lines[3] = lines[3]!.replace('"u-1"', '"u-2"')));
      const v = await verify();
      expect(v.code).toBe(1);
      expect(v.output).toMatch(/audit chain broken at audit-2026-12-01\.jsonl:4: entry 4 does not match/);
    });

    it('fails at the line where one was deleted', async () => {
      await editLines('audit-2026-12-01.jsonl', (lines) => lines.splice(5, 1));
      const v = await verify();
      expect(v.code).toBe(1);
      expect(v.output).toContain('audit chain broken at audit-2026-12-01.jsonl:6: entry 6 is missing before this line (deleted)');
    });

    it('fails at the last line when it was altered: the head in Redis covers it', async () => {
      await editLines('audit-2026-12-01.jsonl', (lines) => (lines[9] = lines[9]!.replace('"10.0.0.1"', '"10.0.0.9"')));
      const v = await verify();
      expect(v.code).toBe(1);
      expect(v.output).toContain('audit chain broken at audit-2026-12-01.jsonl:10: entry 10 does not match the chain');
    });
  });

  it('keeps the entries written before the chain in a file of their own before Redis trims them', async () => {
    await redis.xadd(store.keys.audit, '1000-0', 'at', '2020-01-01T00:00:00.000Z', 'userId', 'u-old', 'action', 'case.read', 'caseId', 'c-old');
    await store.audit({ userId: 'u-1', action: 'case.read' });
    await exportAuditOnce(exportDeps());
    const legacy = await readFile(path.join(auditDir(dataDir), 'audit-legacy.jsonl'), 'utf8');
    expect(JSON.parse(legacy)).toEqual({ streamId: '1000-0', at: '2020-01-01T00:00:00.000Z', userId: 'u-old', action: 'case.read', caseId: 'c-old' });
    expect((await store.auditTrail()).map((r) => r.userId)).toEqual(['u-1']); // trimmed from Redis, kept on disk
    expect((await verify()).code).toBe(0); // the chain is only the chained entries
  });

  it('keeps a window in Redis once the files hold the entries', async () => {
    await store.audit({ userId: 'u-1', action: 'case.read' });
    now = new Date(now.getTime() + 8 * 24 * 3600 * 1000);
    await store.audit({ userId: 'u-1', action: 'case.read' });
    await exportAuditOnce(exportDeps());
    expect((await store.auditTrail()).map((r) => r.seq)).toEqual(['2']);
    expect(await allLines()).toHaveLength(2);
  });
});
