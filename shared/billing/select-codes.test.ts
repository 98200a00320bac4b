import { describe, expect, it } from 'vitest';
import { ctTiming, selectCodes, type BillingMode } from './select-codes.js';
import { ChargeNotBuildable } from './errors.js';

describe('selectCodes', () => {
  it.each<[string, BillingMode, string, string | undefined, string, string[]]>([
    ['a CT from an earlier date in global mode', 'global', '2026-10-02', undefined, '2026-11-27T09:00:00-05:00', ['0877T']],
    ['a CT the day before the encounter', 'global', '20261126', '2026-11-27', '2026-11-20T09:00:00Z', ['0877T']],
    ['a CT on the order date (same encounter) in global mode', 'global', '20261127', undefined, '2026-11-27T09:00:00-05:00', ['0878T']],
    ['a CT on the explicit encounter date', 'global', '2026-12-01', '2026-12-01', '2026-11-27T09:00:00Z', ['0878T']],
    ['a prior CT in split mode', 'split', '2026-10-02', undefined, '2026-11-27T09:00:00Z', ['0879T', '0880T']],
    ['a concurrent CT in split mode', 'split', '2026-11-27', undefined, '2026-11-27T09:00:00Z', ['0879T', '0880T']],
  ])('codes %s', (_name, mode, ctAcquiredDate, encounterDate, orderedAt, codes) => {
    const lines = selectCodes({ mode, ctAcquiredDate, encounterDate, orderedAt });
    expect(lines.map((l) => l.code)).toEqual(codes);
    expect(lines.every((l) => l.units === 1)).toBe(true);
  });

  it('uses the order date as written (its own offset), not the UTC date, as the default encounter date', () => {
    // 23:30 in New York on the 27th is the 28th in UTC; a CT on the 27th is the same encounter.
    expect(ctTiming({ ctAcquiredDate: '2026-11-27', orderedAt: '2026-11-27T23:30:00-05:00' })).toBe('concurrent');
  });

  it('notes on 0878T that the primary CT code is reported separately and that 0878T is an add-on', () => {
    const [line] = selectCodes({ mode: 'global', ctAcquiredDate: '2026-11-27', orderedAt: '2026-11-27T09:00:00Z' });
    expect(line?.notes.join(' ')).toMatch(/71250\/71260\/71270\/71271.*reported separately/);
    expect(line?.notes.join(' ')).toMatch(/add-on/);
  });

  it('marks the split lines technical and professional and notes a concurrent CT on both', () => {
    const lines = selectCodes({ mode: 'split', ctAcquiredDate: '2026-11-27', orderedAt: '2026-11-27T09:00:00Z' });
    expect(lines.map((l) => l.component)).toEqual(['technical', 'professional']);
    expect(lines.every((l) => l.notes.some((n) => n.includes('reported separately')))).toBe(true);
  });

  it('puts no notes on a prior-CT 0877T line', () => {
    expect(selectCodes({ mode: 'global', ctAcquiredDate: '2026-10-02', orderedAt: '2026-11-27T09:00:00Z' })[0]?.notes).toEqual([]);
  });

  it.each([
    ['the CT is dated after the encounter', '2026-11-28', undefined, '2026-11-27T09:00:00Z', /after the order's encounter/],
    ['the CT date is not a date', '2026-13-01', undefined, '2026-11-27T09:00:00Z', /not a calendar date/],
    ['the CT date is empty', '', undefined, '2026-11-27T09:00:00Z', /not a calendar date/],
    ['the encounter date is not a date', '2026-10-02', '2026-02-30', '2026-11-27T09:00:00Z', /encounter date/],
    ['the order time is not a date-time', '2026-10-02', undefined, 'yesterday', /order time/],
  ])('refuses to choose a code when %s', (_name, ctAcquiredDate, encounterDate, orderedAt, message) => {
    const run = () => selectCodes({ mode: 'global', ctAcquiredDate, encounterDate, orderedAt });
    expect(run).toThrow(ChargeNotBuildable);
    expect(run).toThrow(message);
  });
});
