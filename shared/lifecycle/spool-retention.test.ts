import { describe, expect, it } from 'vitest';
import type { Case, CaseStatus } from '../domain/case.js';
import { makeSource } from '../billing/test-fixtures.js';
import { awaitsSpoolPurge, imagesLocation, recordSpoolPurge } from './spool-retention.js';

const at = (status: CaseStatus, extra: Partial<Case> = {}) => ({ id: 'c-1', status, source: makeSource(), artifacts: [], ...extra }) as unknown as Case;

describe('spool retention', () => {
  it.each(['billed', 'rejected', 'ineligible', 'failed', 'cancelled', 'reversed'] as const)('purges the spool of a %s case', (s) => {
    expect(awaitsSpoolPurge(at(s))).toBe(true);
  });

  it.each(['queued', 'awaiting_study', 'retrieving', 'analyzing', 'awaiting_review', 'in_review', 'signed'] as const)('keeps the spool of a %s case', (s) => {
    expect(awaitsSpoolPurge(at(s))).toBe(false);
  });

  it('records a purge once, and then says the images are in the PACS', () => {
    const c = at('billed');
    expect(imagesLocation(c)).toMatchObject({ heldBy: 'ildflow', seriesInstanceUid: c.source!.seriesInstanceUid });
    const change = recordSpoolPurge(c, new Date('2026-12-01T10:00:00Z'), 5_000_000, 720)!;
    expect(change.next.spool).toEqual({ purgedAt: '2026-12-01T10:00:00.000Z', bytes: 5_000_000 });
    expect(change.reason).toContain('the images are in the PACS');
    expect(awaitsSpoolPurge(change.next)).toBe(false);
    expect(recordSpoolPurge(change.next, new Date(), 0, 720)).toBeNull();
    expect(imagesLocation(change.next)).toMatchObject({ heldBy: 'pacs', purgedAt: '2026-12-01T10:00:00.000Z', note: expect.stringContaining('in the PACS') });
  });
});
