import { describe, expect, it } from 'vitest';
import { calendarDateOf, toCalendarDate } from './dates.js';

describe('toCalendarDate', () => {
  it.each<[string | undefined, string | undefined]>([
    ['2026-10-02', '2026-10-02'],
    ['20261002', '2026-10-02'],
    ['2026.10.02', '2026-10-02'],
    [' 20240229 ', '2024-02-29'],
    ['20250229', undefined],
    ['2026-02-30', undefined],
    ['2026-13-01', undefined],
    ['2026-10-02T09:00:00Z', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('reads %j as %j', (text, date) => expect(toCalendarDate(text)).toBe(date));
});

describe('calendarDateOf', () => {
  it.each<[string, string | undefined, string | undefined]>([
    ['2026-11-27T23:30:00-05:00', undefined, '2026-11-27'],
    ['2026-11-28T04:30:00Z', undefined, '2026-11-28'],
    ['2026-11-28T04:30:00Z', 'America/New_York', '2026-11-27'],
    ['2026-11-27T23:30:00-05:00', 'UTC', '2026-11-28'],
    ['not a time', undefined, undefined],
  ])('gives the date of %s in %s as %s', (iso, tz, date) => expect(calendarDateOf(iso, tz)).toBe(date));
});
