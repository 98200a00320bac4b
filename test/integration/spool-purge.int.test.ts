/**
 * The spool purge run against the real store (issue 17): which cases it takes (ended, past retention, not
 * purged yet), what it removes (the series and stray spools, never the documents), and that a retried case
 * is purged again after its new retrieval ends. Real Redis, real files; the clock is moved, not waited for.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArtifactStore } from '../../shared/artifacts/artifact-store.js';
import { createLogger } from '../../shared/logger.js';
import { purgeSpoolsOnce, type PurgeDeps } from '../../workers/purge-spools/purge-spools.worker.js';
import { startApi, type Harness } from '../helpers/api-harness.js';

const exists = (p: string) => stat(p).then(() => true, () => false);

describe('the spool purge run', () => {
  let h: Harness;
  let deps: PurgeDeps;
  const clock = () => new Date(Date.now() + offset);
  let offset = 0;

  beforeAll(async () => {
    h = await startApi();
    deps = { store: h.store, artifacts: createArtifactStore(h.dataDir), clock, logger: createLogger({ level: 'silent' }) };
  });
  afterAll(async () => h?.close());

  async function spoolOf(id: string, files = 3): Promise<void> {
    const dir = path.join(h.dataDir, 'cases', id, 'series');
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < files; i++) await writeFile(path.join(dir, `${i}.dcm`), Buffer.alloc(1000));
  }

  it('removes the series of ended cases past retention, keeps their documents, and leaves cases in flight alone', async () => {
    const billed = await h.seedCase('billed', { artifact: true });
    const inReview = await h.seedCase('in_review');
    const cancelled = await h.seedCase('cancelled');
    await spoolOf(billed.id);
    await spoolOf(inReview.id);
    // A retrieval killed mid-transfer left a spool behind on a case that was then cancelled.
    await mkdir(path.join(h.dataDir, 'cases', cancelled.id, 'spool-abc'), { recursive: true });
    await writeFile(path.join(h.dataDir, 'cases', cancelled.id, 'spool-abc', 'x.dcm'), Buffer.alloc(500));

    expect(await purgeSpoolsOnce(deps, { retentionHours: 1 })).toEqual({ cases: 0, bytes: 0 }); // not yet: ended just now
    offset = 3601_000;
    const run = await purgeSpoolsOnce(deps, { retentionHours: 1 });
    expect(run).toEqual({ cases: 2, bytes: 3500 });
    expect(await exists(path.join(h.dataDir, 'cases', billed.id, 'series'))).toBe(false);
    expect(await readdir(path.join(h.dataDir, 'cases', billed.id, 'artifacts'))).toEqual(['report.pdf']);
    expect(await readdir(path.join(h.dataDir, 'cases', cancelled.id))).toEqual([]);
    expect((await readdir(path.join(h.dataDir, 'cases', inReview.id, 'series'))).length).toBe(3);
    expect((await h.store.get(billed.id)).spool).toMatchObject({ bytes: 3000 });
    // Purged once: the next run finds nothing.
    expect(await purgeSpoolsOnce(deps, { retentionHours: 1 })).toEqual({ cases: 0, bytes: 0 });
  });

  it('purges a retried case again once its new retrieval has ended', async () => {
    offset = 0;
    const failed = await h.seedCase('failed');
    await spoolOf(failed.id);
    offset = 10_000;
    expect((await purgeSpoolsOnce(deps, { retentionHours: 0 })).cases).toBe(1);
    // An admin retry: queued → retrieving → a new spool (the retrieve worker drops the old purge record).
    await h.store.transition(failed.id, 'u-admin', 'queued', 'admin retry', { attempt: 1 });
    expect(await h.store.spoolsEndedBy(clock(), 10)).not.toContain(failed.id);
    await h.store.update(failed.id, 'worker:retrieve', ({ spool: _purged, ...c }) => ({ next: { ...c, status: 'retrieving' }, reason: 'retrieving again' }));
    await spoolOf(failed.id, 2);
    await h.store.transition(failed.id, 'worker:retrieve', 'failed', 'failed again');
    offset = 20_000;
    expect(await purgeSpoolsOnce(deps, { retentionHours: 0 })).toEqual({ cases: 1, bytes: 2000 });
  });

  it('takes in, once, the cases that ended before the purge index existed (an upgrade)', async () => {
    offset = 0;
    const old = await h.seedCase('billed');
    await spoolOf(old.id);
    // As a version before the index left it: not indexed, no marker.
    await h.redis.zrem(h.store.keys.spoolsEnded, old.id);
    await h.redis.del(h.store.keys.spoolsBackfilled);
    offset = 3601_000;
    expect(await purgeSpoolsOnce(deps, { retentionHours: 1 })).toEqual({ cases: 1, bytes: 3000 });
    expect(await h.redis.exists(h.store.keys.spoolsBackfilled)).toBe(1);
  });
});
