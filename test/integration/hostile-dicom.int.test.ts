/**
 * Hostile DICOM (issue 7, docs/design.md §6 "DICOM input is untrusted") through the reader, `ildflow analyze DIR`
 * and the folder source end to end: every malformed file of test/fixtures/hostile is refused with a reason
 * that names the problem (never a TypeError), the process stays up, and a file claiming 65535×65535
 * pixels allocates nothing near its 8 GiB.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidDicom } from '../../shared/errors.js';
import { readInstanceHeader, readSliceHu, scanSeriesDir } from '../../shared/dicom/read-instance.js';
import { assembleVolume } from '../../shared/volume/assemble-volume.js';
import { decodeToExplicitLittle } from '../../shared/dicom/decode-instance.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { analyzeCommand } from '../../services/cli/analyze.js';
import { checkSeriesForEngine } from '../../shared/engines/check-series.js';
import { REFERENCE_DESCRIPTOR } from '../../shared/engines/reference/descriptor.js';
import { hostileEntries, NAMES, sliceFile, strayFiles, writeSeries, type SliceIds } from '../fixtures/hostile/corpus.js';
import { routineOrder, startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';

const SLICES = 60; // 60 × 2.5 mm = 150 mm: meets every requirement of the reference engine
const HOSTILE_AT = 30; // a middle slice, so a silently dropped one would leave a gap
const REQUIREMENTS = REFERENCE_DESCRIPTOR.requirements;
const BUG = /undefined|is not a function|Cannot read prop|\[object Object\]|TypeError|RangeError/;

const ids = (tag: string): Omit<SliceIds, 'sopInstanceUid'> => {
  const n = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
  return { patientId: `MRN-HX-${tag}`.slice(0, 60), studyInstanceUid: `2.25.${n}1`, seriesInstanceUid: `2.25.${n}2`, frameOfReferenceUid: `2.25.${n}3` };
};
const ENTRIES = hostileEntries(ids('reader'), HOSTILE_AT);
const STRAYS = strayFiles(ids('reader'));

let work: string;
beforeAll(async () => void (work = await mkdtemp(join(tmpdir(), 'ildflow-hostile-'))));
afterAll(async () => work && rm(work, { recursive: true, force: true }));

/** A valid series with slice HOSTILE_AT replaced by `bytes` (or, with `add`, `bytes` beside it). */
async function seriesWith(dir: string, series: Omit<SliceIds, 'sopInstanceUid'>, name: string, bytes: Uint8Array, add = false): Promise<void> {
  const files = await writeSeries(dir, series, SLICES);
  await writeFile(add ? join(dir, name) : files[HOSTILE_AT]!, bytes);
}

function rssMb(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

describe('the DICOM reader on the hostile corpus', () => {
  it.each(ENTRIES.map((e) => [e.name, e] as const))('refuses %s with a reason that names the problem', async (name, e) => {
    const path = join(work, `${name}.dcm`);
    await writeFile(path, e.bytes);
    for (const source of [path, e.bytes]) {
      let err: unknown;
      try {
        const header = readInstanceHeader(source);
        readSliceHu(source, header, new Int16Array(header.rows * header.columns), 0);
      } catch (caught) {
        err = caught;
      }
      expect(err, `${name} was accepted`).toBeInstanceOf(InvalidDicom);
      const detail = (err as InvalidDicom).detail;
      expect(detail).toMatch(e.reason!);
      expect(detail).not.toMatch(BUG);
    }
  });

  it.each(STRAYS.map((s) => [s.name, s] as const))('refuses or tells apart the stray file %s', async (name, s) => {
    const path = join(work, `stray-${name}`);
    await writeFile(path, s.bytes);
    let detail: string;
    try {
      const h = readInstanceHeader(path);
      detail = `modality ${h.modality} is not CT`; // MR and secondary capture are images: the requirements refuse them
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidDicom);
      detail = (err as InvalidDicom).detail;
    }
    expect(detail).toMatch(s.reason);
    expect(detail).not.toMatch(BUG);
  });

  it('decodes no compressed file whose header or fragments lie, and says why', async () => {
    for (const e of ENTRIES.filter((x) => x.kind === 'compressed')) {
      const path = join(work, `decode-${e.name}.dcm`);
      await writeFile(path, e.bytes);
      const err = await decodeToExplicitLittle(path).then(() => null, (x: unknown) => x);
      expect(err, e.name).toBeInstanceOf(InvalidDicom);
      expect((err as InvalidDicom).detail).toMatch(/RLE Lossless pixel data is broken|65535×65535 is outside|cannot be parsed/);
    }
  });

  it('reads names in UTF-8, ISO 2022 and undeclared Latin-1 without failing', async () => {
    for (const [k, n] of Object.entries(NAMES)) {
      const s = ids(`cs-${k}`);
      const h = readInstanceHeader(sliceFile({ ...s, sopInstanceUid: `${s.seriesInstanceUid}.1`, index: 0, patientName: n.name, charset: n.charset }));
      expect(h.modality, k).toBe('CT');
    }
  });

  it('allocates almost nothing for files that claim 65535×65535 pixels or 2 GiB of pixel data', async () => {
    const claims = ENTRIES.filter((e) => /65535|beyond-eof|huge/.test(e.name));
    const dir = join(work, 'absurd');
    await mkdir(dir);
    for (const e of claims) await writeFile(join(dir, `${e.name}.dcm`), e.bytes);
    globalThis.gc?.();
    const before = rssMb();
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, rssMb())), 2);
    for (let round = 0; round < 20; round++) {
      const { instances, skipped } = await scanSeriesDir(dir);
      expect(instances).toHaveLength(0);
      expect(skipped).toHaveLength(claims.length);
      await expect(assembleVolume(dir)).rejects.toThrow(/no readable DICOM images/);
      for (const e of claims.filter((x) => x.kind === 'compressed')) await decodeToExplicitLittle(join(dir, `${e.name}.dcm`)).catch(() => undefined);
      peak = Math.max(peak, rssMb());
    }
    clearInterval(timer);
    const growth = peak - before;
    console.info(`hostile corpus: RSS ${before.toFixed(0)} MiB → peak ${peak.toFixed(0)} MiB (+${growth.toFixed(1)} MiB) over 20 rounds of ${claims.length} absurd files`);
    expect(growth).toBeLessThan(64);
  });
});

describe('`ildflow analyze DIR` on a series holding one hostile file', () => {
  async function analyze(dir: string): Promise<{ code: number; out: { eligible?: boolean; reasons?: string[] } }> {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await analyzeCommand([dir, '--json']);
      return { code, out: JSON.parse(String(log.mock.calls.at(-1)?.[0] ?? '{}')) };
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  }

  it.each(ENTRIES.map((e) => [e.name, e] as const))('answers "not eligible" with the reason for %s', async (name, e) => {
    const dir = join(work, `cli-${name}`);
    await seriesWith(dir, ids(`cli-${name}`), '', e.bytes);
    const { code, out } = await analyze(dir);
    expect(code).toBe(3);
    expect(out.eligible).toBe(false);
    const reasons = out.reasons!.join('; ');
    expect(reasons).toMatch(e.reason!);
    expect(reasons).not.toMatch(BUG);
  });

  it.each(STRAYS.filter((s) => s.bytes.length > 132 && !/not-dicom/.test(s.name)).map((s) => [s.name, s] as const))('names the stray DICOM file %s beside a valid series', async (name, s) => {
    const dir = join(work, `cli-stray-${name}`);
    await seriesWith(dir, ids(`cli-stray-${name}`), name, s.bytes, true);
    const { code, out } = await analyze(dir);
    expect(code).toBe(3);
    expect(out.reasons!.join('; ')).toMatch(name === 'mr.dcm' || name === 'secondary-capture.dcm' ? /holds 2 series|different modalities/ : s.reason);
  });

  it('passes over files that are not DICOM at all (empty, a PDF named .dcm) beside a valid series', async () => {
    for (const st of STRAYS.filter((x) => x.bytes.length <= 132 || /not-dicom/.test(x.name))) {
      const dir = join(work, `cli-stray-${st.name}`);
      await seriesWith(dir, ids(`cli-stray-${st.name}`), st.name, st.bytes, true);
      expect((await checkSeriesForEngine(dir, REQUIREMENTS)).reasons, st.name).toEqual([]);
    }
  });

  it('refuses a duplicated SOP instance and a folder of two series', async () => {
    const dup = join(work, 'cli-dup');
    const s = ids('cli-dup');
    const files = await writeSeries(dup, s, SLICES);
    await copyFile(files[10]!, join(dup, 'copy-of-slice-010.dcm'));
    expect((await analyze(dup)).out.reasons!.join('; ')).toMatch(/shares a position with another slice \(duplicates\)/);

    const mixed = join(work, 'cli-mixed');
    await writeSeries(mixed, s, SLICES);
    await writeSeries(join(mixed, '..', 'cli-mixed-b'), { ...s, seriesInstanceUid: `${s.seriesInstanceUid}.2` }, 3);
    for (let i = 0; i < 3; i++) await copyFile(join(mixed, '..', 'cli-mixed-b', `slice-00${i}.dcm`), join(mixed, `b-${i}.dcm`));
    expect((await analyze(mixed)).out.reasons!.join('; ')).toMatch(/the folder holds 2 series, not one/);
  });

  it('accepts a series whose patient name is UTF-8, ISO 2022 or undeclared Latin-1', async () => {
    for (const [k, n] of Object.entries(NAMES)) {
      const dir = join(work, `cli-cs-${k}`);
      await writeSeries(dir, ids(`cli-cs-${k}`), SLICES, { patientName: n.name, charset: n.charset });
      const check = await checkSeriesForEngine(dir, REQUIREMENTS);
      expect(check.reasons, k).toEqual([]);
    }
  });
});

describe('the folder source (file://) end to end', () => {
  let h: Harness;
  beforeAll(async () => void (h = await startHarness()));
  afterAll(async () => h?.close());

  const order = (id: string, patientId: string) => routineOrder(id, patientId, 'HOSTILE^TEST');

  it('ends every case with one hostile slice ineligible or failed, with the reason, and keeps serving', async () => {
    const cases = await Promise.all(
      ENTRIES.map(async (e, i) => {
        const s = ids(`f${i}`);
        await seriesWith(join(h.pacsDir, `hx-${e.name}`), s, '', hostileEntries(s, HOSTILE_AT)[i]!.bytes);
        const r = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-HX-${i}-${process.pid}`, s.patientId));
        expect(r.status).toBe(202);
        return { e, id: r.body.id as string };
      }),
    );
    for (const { e, id } of cases) {
      const done = await waitForStatus(h, id, ['ineligible', 'failed', 'awaiting_review'], 60_000);
      const c = done.case ?? done;
      const reason = [...(c.ineligibleReasons ?? []), c.failure?.reason ?? ''].join('; ');
      expect(c.status, `${e.name}: ${reason}`).toMatch(/^(ineligible|failed)$/);
      // A file whose header cannot even name its series is dropped like any stray file: the gap it leaves is the reason.
      expect(reason, e.name).toMatch(e.inSeries ? e.reason! : /truncated|gaps or missing slices/);
      expect(reason).not.toMatch(BUG);
    }
    expect((await h.call('GET', '/healthz', null)).status).toBe(200);
  }, 90_000);

  it('ignores stray files (empty, not DICOM, DICOMDIR, SR, MR, secondary capture) beside a good study', async () => {
    const patientId = 'MRN-HX-STRAYS';
    const study = `2.25.${process.pid}77`;
    const dir = join(h.pacsDir, 'strays');
    await generatePhantom({ dir: join(dir, 'ct'), pattern: 'uip', seed: 3, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5, patient: { id: patientId, name: 'HOSTILE^TEST', birthDate: '19500101', sex: 'F' }, study: { studyInstanceUid: study, accessionNumber: 'ACC-STRAY', studyDate: '20261020' } });
    for (const s of strayFiles({ patientId, studyInstanceUid: study, seriesInstanceUid: `${study}.9`, frameOfReferenceUid: `${study}.8` })) await writeFile(join(dir, s.name), s.bytes);
    const r = await h.call('POST', '/v1/cases', TOKENS.orderer, order(`ORD-HX-STRAYS-${process.pid}`, patientId));
    const done = await waitForStatus(h, r.body.id, ['awaiting_review', 'ineligible', 'failed'], 60_000);
    expect((done.case ?? done).status, JSON.stringify(done.timeline?.at(-1))).toBe('awaiting_review');
    expect((done.case ?? done).source.modality).toBe('CT');
  }, 90_000);
});
