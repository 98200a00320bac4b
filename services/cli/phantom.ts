/** `ildflow phantom`: writes a synthetic chest CT series (real DICOM Part 10) and its ground truth. */
import { generatePhantom, type PhantomPattern } from '../../shared/phantom/generate-phantom.js';
import { options } from './main.js';

const PATTERNS: readonly PhantomPattern[] = ['normal', 'uip', 'probable_uip', 'nsip', 'emphysema'];

export async function phantomCommand(args: string[]): Promise<number> {
  const { values } = options(args, {
    out: { type: 'string' },
    pattern: { type: 'string', default: 'uip' },
    seed: { type: 'string', default: '1' },
    slices: { type: 'string', default: '160' },
    size: { type: 'string', default: '256' },
    thickness: { type: 'string', default: '1.25' },
    'patient-id': { type: 'string' },
  });
  const pattern = values.pattern as PhantomPattern;
  if (!values.out) throw new Error('--out DIR is required');
  if (!PATTERNS.includes(pattern)) throw new Error(`--pattern must be one of ${PATTERNS.join(', ')}`);
  const int = (name: string, v: unknown, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  const size = int('size', values.size, 64, 1024);
  const started = performance.now();
  const r = await generatePhantom({
    dir: values.out as string,
    pattern,
    seed: int('seed', values.seed, 0, 2 ** 31),
    slices: int('slices', values.slices, 8, 2000),
    rows: size,
    columns: size,
    sliceThicknessMm: int('thickness', values.thickness, 0.5, 10),
    ...(values['patient-id'] ? { patient: { id: values['patient-id'] as string } } : {}),
  });
  console.log(
    JSON.stringify(
      {
        dir: values.out,
        files: r.files.length,
        studyInstanceUid: r.studyInstanceUid,
        seriesInstanceUid: r.seriesInstanceUid,
        expectedCategory: r.groundTruth.expectedCategory,
        seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      },
      null,
      2,
    ),
  );
  return 0;
}
