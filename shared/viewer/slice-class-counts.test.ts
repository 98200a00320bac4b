import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../dicom/read-instance.js';
import { countSetBits, framesBySlice, paintPackedFrame, sliceClassCounts } from './slice-class-counts.js';

const positions: Vec3[] = [
  [0, 0, 10],
  [0, 0, 7.5],
  [0, 0, 5],
];
const uids = ['1.1', '1.2', '1.3'];

describe('framesBySlice', () => {
  it('puts each frame on the slice at its position (DS rounding tolerated), in the vocabulary value of its segment', () => {
    const frames = [
      { segment: 1, position: [0, 0, 7.5001] as const, sourceSopInstanceUids: [] },
      { segment: 2, position: [0, 0, 10] as const, sourceSopInstanceUids: [] },
      { segment: 1, position: [0, 0, 10] as const, sourceSopInstanceUids: [] },
    ];
    const bySlice = framesBySlice(frames, { positions, sopInstanceUids: uids }, new Map([[1, 6], [2, 3]]));
    expect(bySlice).toEqual([[{ frame: 1, value: 3 }, { frame: 2, value: 6 }], [{ frame: 0, value: 6 }], []]);
  });

  it('falls back on the source image a frame without a position names, and drops frames of unknown segments or off the series', () => {
    const frames = [
      { segment: 1, sourceSopInstanceUids: ['1.3'] },
      { segment: 9, position: [0, 0, 5] as const, sourceSopInstanceUids: [] },
      { segment: 1, position: [0, 0, 99] as const, sourceSopInstanceUids: [] },
    ];
    expect(framesBySlice(frames, { positions, sopInstanceUids: uids }, new Map([[1, 2]]))).toEqual([[], [], [{ frame: 0, value: 2 }]]);
  });
});

describe('countSetBits', () => {
  it('counts the bits of any range, least significant bit first (PS3.5 §8.1.1), as a bit-by-bit count does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const total = bytes.length * 8;
        const start = a % total;
        const n = b % (total - start + 1);
        let naive = 0;
        for (let i = start; i < start + n; i++) naive += (bytes[i >> 3]! >> (i & 7)) & 1;
        expect(countSetBits(bytes, start, n)).toBe(naive);
      }),
    );
  });
});

describe('sliceClassCounts', () => {
  it('adds each frame’s voxels to its slice’s column of its class', () => {
    const bySlice = [[{ frame: 0, value: 1 }, { frame: 1, value: 6 }], [], [{ frame: 2, value: 6 }]];
    expect(sliceClassCounts(bySlice, [10, 5, 7], [1, 2, 6])).toEqual([
      [10, 0, 5],
      [0, 0, 0],
      [0, 0, 7],
    ]);
  });
});

describe('paintPackedFrame', () => {
  it('writes the value where the packed bit is set, from any bit offset, and leaves the rest', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 40 }), fc.nat(7), fc.integer({ min: 1, max: 20 }), (bytes, shift, n) => {
        const labels = new Uint8Array(Math.min(n, bytes.length * 8 - shift)).fill(2);
        paintPackedFrame(labels, bytes, shift, 5);
        labels.forEach((v, i) => expect(v).toBe((bytes[(shift + i) >> 3]! >> ((shift + i) & 7)) & 1 ? 5 : 2));
      }),
    );
  });
});
