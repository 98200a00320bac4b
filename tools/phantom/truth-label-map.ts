/**
 * A phantom series with a label map made from its ground truth (not from an engine), for the viewer's tests
 * and its bench: the phantom's truth labels mapped onto the one vocabulary (label-classes.ts; vessels count
 * as lung, as the engine's do) and written as the reference engine writes its SEG (write-label-map.ts), then
 * checked against the series as the analyze worker checks an engine's (label-map-check.ts).
 */
import { generatePhantom, PHANTOM_LABELS, type PhantomOptions, type PhantomResult } from '../../shared/phantom/generate-phantom.js';
import { readSegHeader } from '../../shared/dicom/seg/read-seg.js';
import { scanSeriesDir } from '../../shared/dicom/read-instance.js';
import { LABEL_CLASSES, type ClassKey } from '../../shared/engines/label-classes.js';
import { checkLabelMap } from '../../shared/engines/label-map-check.js';
import { writeLabelMap } from '../../shared/engines/reference/write-label-map.js';
import { assembleVolume } from '../../shared/volume/assemble-volume.js';

const value = (k: ClassKey): number => LABEL_CLASSES.find((c) => c.key === k)!.segmentNumber;

/** Truth label → class value (0: not lung). */
const CLASS_OF_TRUTH: ReadonlyMap<number, number> = new Map([
  [PHANTOM_LABELS.lung, value('normal')],
  [PHANTOM_LABELS.vessel, value('normal')],
  [PHANTOM_LABELS.groundGlass, value('groundGlass')],
  [PHANTOM_LABELS.reticulation, value('reticulation')],
  [PHANTOM_LABELS.honeycombing, value('honeycombing')],
  [PHANTOM_LABELS.emphysema, value('emphysema')],
  [PHANTOM_LABELS.consolidation, value('consolidation')],
]);

export type TruthLabelMap = Readonly<{
  phantom: PhantomResult;
  /** The class value of every voxel, cranial slice first (what the SEG holds). */
  classMap: Uint8Array;
  sopInstanceUid: string;
  segments: readonly Readonly<{ number: number; key: ClassKey }>[];
}>;

export async function phantomWithTruthLabelMap(opts: PhantomOptions & { dir: string }, segPath: string): Promise<TruthLabelMap> {
  const rows = opts.rows ?? 256;
  const columns = opts.columns ?? 256;
  const slices = opts.slices ?? 120;
  const classMap = new Uint8Array(rows * columns * slices);
  const phantom = await generatePhantom({
    ...opts,
    onSliceLabels: (z, labels) => {
      const off = z * rows * columns;
      for (let i = 0; i < labels.length; i++) classMap[off + i] = CLASS_OF_TRUTH.get(labels[i]!) ?? 0;
    },
  });
  const volume = await assembleVolume(opts.dir);
  await writeLabelMap(segPath, volume, classMap, opts.dir, { id: 'phantom-truth', name: 'Phantom truth', version: '1', vendor: 'ildflow tests' }, new Date());
  const header = await readSegHeader(segPath);
  const fit = checkLabelMap(header, (await scanSeriesDir(opts.dir)).instances.map((i) => i.header));
  if (!fit.ok) throw new Error(`the truth label map does not fit its series: ${fit.reason}`);
  return { phantom, classMap, sopInstanceUid: header.sopInstanceUid, segments: fit.segments };
}
