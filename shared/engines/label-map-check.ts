/**
 * Does an engine's label map fit the series it was given? (docs/design.md §5 "Label maps": "Its geometry is
 * checked against the input series.") A pure rule over the SEG's header and the input's instance headers:
 * SOP class and segmentation type, rows and columns, Frame of Reference, each frame's orientation and
 * position on one of the input's slices (PS3.3 C.7.6.16.2.1, C.7.6.16.2.2), the Source Image and Common
 * Instance references (C.7.6.16.2.6, C.12.2) naming the input's own instances, and every segment typed with
 * a class of the one vocabulary (label-classes.ts). A map that does not fit is refused with the reason; the
 * engine's result stays valid without it.
 */
import type { InstanceHeader } from '../dicom/read-instance.js';
import type { SegHeader } from '../dicom/seg/read-seg.js';
import { SEGMENTATION_STORAGE } from '../dicom/seg/write-seg.js';
import { classOfType, type ClassKey } from './label-classes.js';

/** Positions and direction cosines are printed as DS: allow rounding in the last digits only. */
const POSITION_TOLERANCE_MM = 0.01;
const ORIENTATION_TOLERANCE = 1e-3;

export type LabelMapFit =
  | Readonly<{ ok: true; segments: readonly Readonly<{ number: number; key: ClassKey }>[]; frameSops: readonly string[] }>
  | Readonly<{ ok: false; reason: string }>;

const refuse = (reason: string): LabelMapFit => ({ ok: false, reason });

/** @param series - the input series' instance headers (any order). */
export function checkLabelMap(seg: SegHeader, series: readonly InstanceHeader[]): LabelMapFit {
  const first = series[0];
  if (!first) return refuse('the input series has no images to check the label map against');
  if (seg.sopClassUid !== SEGMENTATION_STORAGE) return refuse(`the label map is not a DICOM Segmentation (SOP Class ${seg.sopClassUid || 'missing'})`);
  if (seg.segmentationType !== 'BINARY' || seg.bitsAllocated !== 1) return refuse(`only BINARY segmentations (1 bit) are read; this one is ${seg.segmentationType || 'untyped'} with ${seg.bitsAllocated} bits`);
  if (seg.studyInstanceUid !== first.studyInstanceUid) return refuse('the label map belongs to another study');
  if (seg.rows !== first.rows || seg.columns !== first.columns) return refuse(`the label map is ${seg.columns} × ${seg.rows} pixels, the series ${first.columns} × ${first.rows}`);
  if (seg.frameOfReferenceUid !== first.frameOfReferenceUid) return refuse("the label map's Frame of Reference UID is not the series'");
  if (seg.numberOfFrames < 1 || seg.frames.length !== seg.numberOfFrames) return refuse(`the label map declares ${seg.numberOfFrames} frames and describes ${seg.frames.length}`);

  const segments: { number: number; key: ClassKey }[] = [];
  for (const s of seg.segments) {
    const cls = s.type ? classOfType(s.type) : undefined;
    if (!cls) return refuse(`segment ${s.number} (${s.type ? `${s.type.scheme} ${s.type.value} "${s.type.meaning}"` : 'no Segmented Property Type'}) is not one of ildflow's classes`);
    if (segments.some((x) => x.number === s.number || x.key === cls.key)) return refuse(`segment ${s.number} repeats a segment number or a class`);
    segments.push({ number: s.number, key: cls.key });
  }

  const bySop = new Map(series.map((h) => [h.sopInstanceUid, h]));
  const seen = new Set<string>();
  const frameSops: string[] = [];
  for (const [k, f] of seg.frames.entries()) {
    const at = `frame ${k + 1}`;
    if (!segments.some((s) => s.number === f.segment)) return refuse(`${at} names segment ${f.segment}, which the label map does not define`);
    if (!f.orientation || f.orientation.length !== 6 || f.orientation.some((v, i) => Math.abs(v - first.imageOrientationPatient[i]!) > ORIENTATION_TOLERANCE))
      return refuse(`${at}'s orientation is not the series'`);
    if (!f.position) return refuse(`${at} has no Image Position (Patient)`);
    const slice = series.find((h) => h.imagePositionPatient.every((v, i) => Math.abs(v - f.position![i]!) <= POSITION_TOLERANCE_MM));
    if (!slice) return refuse(`${at} lies at (${f.position.join(', ')}), on none of the series' slices`);
    for (const uid of f.sourceSopInstanceUids) {
      if (!bySop.has(uid)) return refuse(`${at} derives from an image that is not in the input series`);
      if (uid !== slice.sopInstanceUid) return refuse(`${at} derives from another slice than the one at its position`);
    }
    const key = `${f.segment}/${slice.sopInstanceUid}`;
    if (seen.has(key)) return refuse(`${at} repeats segment ${f.segment} on a slice it already covers`);
    seen.add(key);
    frameSops.push(slice.sopInstanceUid);
  }
  for (const r of seg.referencedSeries) {
    if (r.seriesInstanceUid !== first.seriesInstanceUid) return refuse('the label map references another series than the input');
    if (r.sopInstanceUids.some((u) => !bySop.has(u))) return refuse('the label map references images that are not in the input series');
  }
  return { ok: true, segments, frameSops };
}
