/**
 * The http and command engine adapters against real example engines (test/fixtures/engines): the answers
 * they accept, the garbage they refuse, the bounds on engines that hang or crash, and the label maps
 * (DICOM SEG) they return, checked against the series.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createArtifactStore } from '../../shared/artifacts/artifact-store.js';
import { readSegHeader } from '../../shared/dicom/seg/read-seg.js';
import { LABEL_MAP_SCRATCH, acceptLabelMap } from '../../shared/engines/accept-label-map.js';
import { createEngine } from '../../shared/engines/create-engine.js';
import { REPORT_ARTIFACTS } from '../../shared/reports/report-refs.js';
import { EngineResult, type EngineInput } from '../../shared/engines/contract.js';
import { EngineFailed, NotEligible } from '../../shared/errors.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { COMMAND_ENGINE, startHttpEngine, type ExampleHttpEngine } from '../helpers/example-engines.js';

let root: string;
let input: EngineInput;
const never = new AbortController().signal;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ildflow-adapters-'));
  const p = await generatePhantom({ dir: join(root, 'series'), pattern: 'uip', seed: 5, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5 });
  input = { seriesDir: join(root, 'series'), studyInstanceUid: p.studyInstanceUid, seriesInstanceUid: p.seriesInstanceUid };
});
afterAll(async () => rm(root, { recursive: true, force: true }));

/** Running, not merely a zombie waiting for a PID 1 that does not reap (as in many containers). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return false;
  return !/^\d+ \(.*\) [ZX]/.test(stat);
}

async function failure(p: Promise<unknown>): Promise<Error & { retryable?: boolean }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the analysis to fail');
}

describe('the http engine adapter', () => {
  let engine: ExampleHttpEngine | undefined;
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
  });

  it('streams the series as multipart/related DICOM and accepts a 200 result', async () => {
    engine = await startHttpEngine('ok');
    const r = await createEngine(engine.url, { timeoutMs: 20_000 }).analyze(input, never);
    expect(EngineResult.parse(r).input.seriesInstanceUid).toBe(input.seriesInstanceUid);
    expect(await engine.stats()).toMatchObject({ posts: 1, parts: 64 });
  });

  it('polls the Location of a 202 until the result is ready', async () => {
    engine = await startHttpEngine('async');
    const r = await createEngine(engine.url, { timeoutMs: 20_000 }).analyze(input, never);
    expect(r.classification.category).toBe('probable_uip');
    expect((await engine.stats()).polls).toBe(2);
  });

  it("polls only the engine's own origin: a 202 Location elsewhere fails the analysis and is never fetched (issue 11, F13)", async () => {
    const elsewhere: string[] = [];
    const other = http.createServer((req, res) => {
      elsewhere.push(req.url ?? '');
      res.writeHead(202, { 'retry-after': '0' }).end();
    });
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const engineServer = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(202, { location: `${otherUrl}/jobs/1`, 'retry-after': '0' }).end());
    });
    engineServer.listen(0, '127.0.0.1');
    await once(engineServer, 'listening');
    try {
      const url = `http://127.0.0.1:${(engineServer.address() as AddressInfo).port}/analyze`;
      const err = await failure(createEngine(url, { timeoutMs: 5_000 }).analyze(input, never));
      expect(err).toBeInstanceOf(EngineFailed);
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/another origin/);
      expect(elsewhere).toEqual([]);
    } finally {
      engineServer.close();
      other.close();
    }
  });

  it('runs the reference analysis behind HTTP and gets the same category as in-process', async () => {
    engine = await startHttpEngine('reference');
    const r = await createEngine(engine.url, { timeoutMs: 60_000 }).analyze(input, never);
    expect(r.engine.id).toBe('reference');
    expect(r.classification.category).toBe('uip');
  });

  it('retries 503s a bounded number of times, then succeeds', async () => {
    engine = await startHttpEngine('flaky');
    await createEngine(engine.url, { timeoutMs: 20_000 }).analyze(input, never);
    expect((await engine.stats()).posts).toBe(3);
  });

  it('fails without retry, naming the problem, when the engine answers garbage', async () => {
    engine = await startHttpEngine('garbage');
    const err = await failure(createEngine(engine.url, { timeoutMs: 20_000 }).analyze(input, never));
    expect(err).toBeInstanceOf(EngineFailed);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/answered an invalid ildflow\.engine-result\/1: schema: /);
    expect((await engine.stats()).posts).toBe(1);
  });

  it('refuses a valid result about another series', async () => {
    engine = await startHttpEngine('other-series');
    const err = await failure(createEngine(engine.url, { timeoutMs: 20_000 }).analyze(input, never));
    expect(err.message).toMatch(/different study or series/);
    expect(err.retryable).toBe(false);
  });

  it("makes a 422 refusal an ineligibility with the engine's words", async () => {
    engine = await startHttpEngine('refuse');
    const err = await failure(createEngine(engine.url, { timeoutMs: 20_000 }).analyze(input, never));
    expect(err).toBeInstanceOf(NotEligible);
    expect((err as NotEligible).reasons[0]).toMatch(/contrast-enhanced series are not supported/);
  });

  it('gives up on a hanging engine at the timeout, as a retryable failure', async () => {
    engine = await startHttpEngine('hang');
    const t = performance.now();
    const err = await failure(createEngine(engine.url, { timeoutMs: 1_500 }).analyze(input, never));
    expect(performance.now() - t).toBeLessThan(4_000);
    expect(err.message).toMatch(/did not answer within 1\.5 s/);
    expect(err.retryable).toBe(true);
  });

  it('fails retryably, after bounded attempts, when the engine crashes mid-request', async () => {
    engine = await startHttpEngine('crash');
    const err = await failure(createEngine(engine.url, { timeoutMs: 20_000 }).analyze(input, never));
    expect(err.message).toMatch(/cannot reach external http engine .*\(after 3 attempts\)/);
    expect(err.retryable).toBe(true);
  });

  it('stops at once when the caller aborts', async () => {
    engine = await startHttpEngine('hang');
    const ctl = new AbortController();
    const p = failure(createEngine(engine.url, { timeoutMs: 60_000 }).analyze(input, ctl.signal));
    setTimeout(() => ctl.abort(new Error('shutting down')), 300);
    expect((await p).message).toBe('shutting down');
  });
});

describe('the command engine adapter', () => {
  const cmd = (args: string, timeoutMs = 20_000) => createEngine(`command:${COMMAND_ENGINE} ${args}`, { timeoutMs });

  it('gives the program the series in ILDFLOW_INPUT_DIR and reads result.json', async () => {
    const r = await cmd('ok').analyze(input, never);
    expect(r.engine.id).toBe('example-command');
    expect(r.input.sliceCount).toBe(64);
  });

  it('runs the reference analysis as a program', async () => {
    const r = await cmd('reference', 60_000).analyze(input, never);
    expect(r.classification.category).toBe('uip');
  });

  it.each([
    ['garbage', /answered an invalid ildflow\.engine-result\/1/, false],
    ['no-result', /exited without writing result\.json/, false],
    ['crash', /exited with code 2: segmentation model failed to load: out of GPU memory/, true],
  ])('fails on %s with a clear reason', async (mode, reason, retryable) => {
    const err = await failure(cmd(mode).analyze(input, never));
    expect(err).toBeInstanceOf(EngineFailed);
    expect(err.message).toMatch(reason);
    expect(err.retryable).toBe(retryable);
  });

  it('makes exit code 65 an ineligibility', async () => {
    const err = await failure(cmd('refuse').analyze(input, never));
    expect(err).toBeInstanceOf(NotEligible);
    expect(err.message).toMatch(/series has contrast/);
  });

  it('kills the whole process group of a program that hangs past the timeout', async () => {
    const pidFile = join(root, 'grandchild.pid');
    const t = performance.now();
    const err = await failure(cmd(`hang ${pidFile}`, 1_500).analyze(input, never));
    expect(performance.now() - t).toBeLessThan(6_000);
    expect(err.message).toMatch(/did not finish within 1\.5 s and was killed/);
    expect(err.retryable).toBe(true);
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    expect(await isRunning(grandchild)).toBe(false);
  });

  it('kills the program when the caller aborts', async () => {
    const ctl = new AbortController();
    const p = failure(cmd('hang', 60_000).analyze(input, ctl.signal));
    setTimeout(() => ctl.abort(new Error('shutting down')), 500);
    expect((await p).message).toBe('shutting down');
  });

  it('refuses a spec without an absolute path at start-up', () => {
    expect(() => createEngine('command:engine')).toThrow(/absolute program path/);
  });
});

describe("the engine's label map (docs/design.md §5 \"Label maps\")", () => {
  let engine: ExampleHttpEngine | undefined;
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
  });
  const artifacts = () => createArtifactStore(join(root, 'data'));
  /** Runs an engine with a label-map path, then ildflow's own acceptance of what it left there. */
  async function labelMapOf(spec: string, caseId: string) {
    const store = artifacts();
    const labelMapPath = await store.scratchPath(caseId, LABEL_MAP_SCRATCH);
    let problem: string | undefined;
    const r = await createEngine(spec, { timeoutMs: 60_000 }).analyze({ ...input, labelMapPath, onLabelMapProblem: (p) => (problem = p) }, never);
    return { result: r, ...(await acceptLabelMap(caseId, labelMapPath, input.seriesDir, r.engine.name, store, problem)), path: store.artifactPath(caseId, REPORT_ARTIFACTS.labelMap) };
  }
  const consolidationOnly = [{ number: 6, key: 'consolidation' }];

  it('takes seg.dcm from a command engine, checks it fits the series and stores it', async () => {
    const m = await labelMapOf(`command:${COMMAND_ENGINE} seg`, 'c-cmd-seg');
    expect(m.record).toMatchObject({ status: 'stored', segments: consolidationOnly });
    expect(m.ref?.dicom?.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.66.4');
    const header = await readSegHeader(m.path);
    expect(header.frames.every((f) => f.segment === 6)).toBe(true);
  });

  it('refuses, with the reason, a command engine map on another Frame of Reference; the result stands', async () => {
    const m = await labelMapOf(`command:${COMMAND_ENGINE} misfit-seg`, 'c-cmd-misfit');
    expect(EngineResult.parse(m.result).engine.id).toBe('example-command');
    expect(m.record).toEqual({ status: 'refused', reason: expect.stringMatching(/refused: the label map's Frame of Reference UID is not the series'/) });
    expect(m.ref).toBeUndefined();
  });

  it('records that an engine without a map returned none', async () => {
    const m = await labelMapOf(`command:${COMMAND_ENGINE} ok`, 'c-cmd-none');
    expect(m.record).toEqual({ status: 'none', reason: 'example example-command engine returned no label map: no overlay is shown' });
  });

  it.each([
    ['seg-multipart', 'c-http-multipart'],
    ['seg-href', 'c-http-href'],
  ])('takes the SEG of an http engine answering %s', async (mode, caseId) => {
    engine = await startHttpEngine(mode);
    const m = await labelMapOf(engine.url, caseId);
    expect(m.result.engine.id).toBe('example-http');
    expect(m.record).toMatchObject({ status: 'stored', segments: consolidationOnly });
  });

  it('drops, with the reason, a map an http engine names but will not give; the result stands', async () => {
    engine = await startHttpEngine('seg-href-missing');
    const m = await labelMapOf(engine.url, 'c-http-missing');
    expect(m.result.engine.id).toBe('example-http');
    expect(m.record).toEqual({ status: 'refused', reason: expect.stringMatching(/refused: .* answered HTTP 404 for its label map/) });
  });
});
