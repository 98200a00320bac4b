import { describe, expect, it } from 'vitest';
import { DEFAULT_MIN_FREE, describeShortage, diskState, isNoSpace, parseMinFree } from './disk-space.js';

describe('the disk watermark', () => {
  it.each([
    ['10%', { bytes: 0, percent: 10 }],
    ['12.5 %', { bytes: 0, percent: 12.5 }],
    ['5000000000', { bytes: 5e9, percent: 0 }],
    ['5GB', { bytes: 5e9, percent: 0 }],
    ['20GiB', { bytes: 20 * 1024 ** 3, percent: 0 }],
    ['512M', { bytes: 512e6, percent: 0 }],
  ])('reads %j', (text, min) => expect(parseMinFree(text)).toEqual(min));

  it.each(['', 'lots', '-5', '101%', '5 PB', '10%%'])('refuses %j', (text) => expect(parseMinFree(text)).toBeNull());

  it('takes the larger of 10 % and 5 GB by default', () => {
    expect(diskState({ freeBytes: 6e9, totalBytes: 20e9 }, DEFAULT_MIN_FREE)).toMatchObject({ requiredBytes: 5e9, low: false });
    expect(diskState({ freeBytes: 60e9, totalBytes: 1000e9 }, DEFAULT_MIN_FREE)).toMatchObject({ requiredBytes: 100e9, low: true });
  });

  it('says the numbers, never a path', () => {
    expect(describeShortage(diskState({ freeBytes: 1.25e9, totalBytes: 100e9 }, DEFAULT_MIN_FREE))).toBe('1.3 GB free on the data volume, 10.0 GB required (ILDFLOW_DISK_MIN_FREE)');
  });

  it('knows a full volume in an error cause chain', () => {
    expect(isNoSpace(new Error('write failed', { cause: Object.assign(new Error('no space'), { code: 'ENOSPC' }) }))).toBe(true);
    expect(isNoSpace(new Error('other'))).toBe(false);
  });
});
