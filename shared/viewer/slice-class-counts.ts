/**
 * How the engine's label map (a DICOM Segmentation, PS3.3 A.51) lines up with the slices of the analysed
 * series, and how much of each class each slice holds. Pure: the SEG header and the packed frame bits are
 * read elsewhere (shared/dicom/seg/read-seg.ts). A BINARY SEG has one frame per segment per plane it occurs
 * on (PS3.3 C.8.20.2); a frame belongs to the slice at its Image Position (Patient) (Plane Position
 * Sequence, PS3.3 C.7.6.16.2.3) or, without one, to the slice its Derivation Image Sequence names.
 */
import type { Vec3 } from '../dicom/read-instance.js';
import type { SegFrame } from '../dicom/seg/read-seg.js';

/** One SEG frame on one slice, with the viewer's class value (the vocabulary's segment number) it paints. */
export type SliceFrame = Readonly<{ frame: number; value: number }>;

/** Positions are printed as DS: the tolerance the geometry check (label-map-check.ts) uses. */
const SAME_POSITION_MM = 0.01;

const samePosition = (a: Vec3, b: Vec3): boolean => Math.abs(a[0] - b[0]) <= SAME_POSITION_MM && Math.abs(a[1] - b[1]) <= SAME_POSITION_MM && Math.abs(a[2] - b[2]) <= SAME_POSITION_MM;

/**
 * The frames on each slice. `valueOfSegment` maps the SEG's own segment numbers to the vocabulary's values;
 * a frame of a segment outside it, or on no slice of the series, is left out.
 */
export function framesBySlice(
  frames: readonly SegFrame[],
  slices: Readonly<{ positions: readonly Vec3[]; sopInstanceUids: readonly string[] }>,
  valueOfSegment: ReadonlyMap<number, number>,
): SliceFrame[][] {
  const out: SliceFrame[][] = slices.positions.map(() => []);
  const bySop = new Map(slices.sopInstanceUids.map((u, i) => [u, i]));
  frames.forEach((f, frame) => {
    const value = valueOfSegment.get(f.segment);
    if (value === undefined) return;
    let z = f.position ? slices.positions.findIndex((p) => samePosition(p, f.position!)) : -1;
    if (z < 0) z = f.sourceSopInstanceUids.map((u) => bySop.get(u)).find((i) => i !== undefined) ?? -1;
    if (z >= 0) out[z]!.push({ frame, value });
  });
  return out;
}

/** 0…8: the set bits of each byte value. */
const BITS_IN = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  return n;
});

/**
 * The set bits in `nBits` bits of `bytes` starting at bit `startBit`, least significant bit first (PS3.5
 * §8.1.1: 1-bit pixels are packed from the low bit of each byte, and frames follow each other bit by bit).
 */
export function countSetBits(bytes: Uint8Array, startBit: number, nBits: number): number {
  let n = 0;
  let bit = startBit;
  const end = startBit + nBits;
  for (; bit < end && bit & 7; bit++) n += (bytes[bit >> 3]! >> (bit & 7)) & 1;
  for (; bit + 8 <= end; bit += 8) n += BITS_IN[bytes[bit >> 3]!]!;
  for (; bit < end; bit++) n += (bytes[bit >> 3]! >> (bit & 7)) & 1;
  return n;
}

/**
 * Voxels of each class on each slice: `counts[z][k]` for the class whose value is `values[k]`, from the
 * set bits of each frame (`frameVoxels[frame]`). A voxel in two frames of one class (a SEG may overlap) is
 * counted twice; the reference engine's segments never overlap.
 */
export function sliceClassCounts(bySlice: readonly (readonly SliceFrame[])[], frameVoxels: readonly number[], values: readonly number[]): number[][] {
  const column = new Map(values.map((v, k) => [v, k]));
  return bySlice.map((frames) => {
    const row = values.map(() => 0);
    for (const f of frames) {
      const k = column.get(f.value);
      if (k !== undefined) row[k]! += frameVoxels[f.frame] ?? 0;
    }
    return row;
  });
}

/**
 * Paints one frame into a slice's label map with `value` where its bit is set, straight from the packed
 * bits (`bytes` from bit `startBit`, PS3.5 §8.1.1, least significant bit first); later frames win.
 */
export function paintPackedFrame(labels: Uint8Array, bytes: Uint8Array, startBit: number, value: number): void {
  const n = labels.length;
  let i = 0;
  let bit = startBit;
  for (; i < n && bit & 7; i++, bit++) if ((bytes[bit >> 3]! >> (bit & 7)) & 1) labels[i] = value;
  for (; i + 8 <= n; i += 8, bit += 8) {
    const b = bytes[bit >> 3]!;
    if (!b) continue; // most of a frame is outside its class
    for (let k = 0; k < 8; k++) if ((b >> k) & 1) labels[i + k] = value;
  }
  for (; i < n; i++, bit++) if ((bytes[bit >> 3]! >> (bit & 7)) & 1) labels[i] = value;
}
