import { describe, expect, it } from 'vitest';
import type { Case } from '../domain/case.js';
import { waitForDisk, withoutDiskWait } from './disk-wait.js';
import { nextJob } from './next-job.js';

const retrieving = { id: 'c-1', status: 'retrieving', attempt: 0, version: 4, artifacts: [] } as unknown as Case;

describe('waiting for disk space', () => {
  it('records the wait once on the timeline and names a delayed re-check job for each check', () => {
    const now = new Date('2026-12-01T10:00:00Z');
    const first = waitForDisk(retrieving, now, '1.0 GB free', 30_000);
    expect(first.quiet).toBe(false);
    expect(nextJob(first.next)).toEqual({ caseId: 'c-1', attempt: 0, queue: 'retrieve', tag: 'disk-1', notBefore: '2026-12-01T10:00:30.000Z' });
    const second = waitForDisk({ ...first.next, version: 5 }, new Date('2026-12-01T10:00:30Z'), '1.0 GB free', 30_000);
    expect(second.quiet).toBe(true);
    expect(second.next.diskWait).toMatchObject({ since: '2026-12-01T10:00:00.000Z', checks: 2 });
    expect(nextJob(second.next)?.tag).toBe('disk-2');
    expect(nextJob(withoutDiskWait(second.next))).toEqual({ caseId: 'c-1', attempt: 0, queue: 'retrieve' });
  });

  it('gives way to a PACS event that resumed the case after the wait began', () => {
    const waited = waitForDisk(retrieving, new Date(), '1.0 GB free', 30_000).next;
    expect(nextJob({ ...waited, resumeVersion: 9 })?.tag).toBe('resume-v9');
  });
});
