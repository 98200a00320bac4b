/**
 * The `command:/path` engine adapter (docs/design.md §5), the way container-packaged imaging AI apps run
 * (MONAI Deploy's App SDK and similar: an input folder in, an output folder out): the series is linked
 * (or copied, across file systems) into a fresh input folder, the program runs with `ILDFLOW_INPUT_DIR`
 * and `ILDFLOW_OUTPUT_DIR`, and its answer is `result.json` in the output folder, with its label map as
 * `seg.dcm` beside it when it has one. The program runs in its
 * own process group with a minimal environment (no ildflow secrets), and the whole group is killed on
 * timeout, on abort, and when this process exits. Failure policy: see external.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, link, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { scanSeriesDir } from '../../dicom/read-instance.js';
import { EngineFailed, NotEligible } from '../../errors.js';
import type { EngineInput, EngineResult, IldEngine } from '../contract.js';
import { DEFAULT_ENGINE_TIMEOUT_MS, acceptAnswer, deadline, externalDescriptor, quote, type ExternalEngineOptions } from './external.js';

/** After SIGTERM the program has this long to exit before the group gets SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** How much of the program's stderr is kept to explain a failure. */
const STDERR_TAIL_BYTES = 4096;
/** An engine result is a few kilobytes; a larger result.json is not one. */
const MAX_RESULT_BYTES = 4 * 1024 * 1024;
/** Exit code by which a program says "this series is not for me" (EX_DATAERR, sysexits.h): the case
 *  becomes ineligible with the program's stderr as the reason. */
export const EXIT_NOT_ELIGIBLE = 65;
/** Variables passed through to the program; nothing else of ildflow's environment (tokens, secrets). */
const PASSED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'NODE_OPTIONS'] as const;

/** The program's label map, a DICOM SEG, in its output folder (docs/design.md §5 "Label maps"); optional. */
export const LABEL_MAP_FILE = 'seg.dcm';

/** Live engine process groups, killed if this process exits while they run. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * @param spec - the program's path, optionally followed by space-separated arguments
 *   (`command:/opt/engine/run --fast`); the path itself may not contain spaces.
 */
export function createCommandEngine(spec: string, opts: ExternalEngineOptions = {}): IldEngine {
  const [program, ...args] = spec.trim().split(/\s+/);
  if (!program) throw new Error('command engine: no program given');
  const descriptor = externalDescriptor('command', basename(program), opts.descriptor);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS;
  installExitHook();
  return {
    descriptor,
    async analyze(input, signal) {
      const work = await mkdtemp(join(tmpdir(), 'ildflow-engine-'));
      try {
        const inputDir = join(work, 'input');
        const outputDir = join(work, 'output');
        await mkdir(outputDir);
        await stageSeries(input.seriesDir, inputDir);
        await run(program, args, input, inputDir, outputDir, descriptor.name, timeoutMs, signal);
        const result = await readResult(join(outputDir, 'result.json'), descriptor.name, input);
        if (input.labelMapPath) await takeLabelMap(join(outputDir, LABEL_MAP_FILE), input.labelMapPath);
        return result;
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  };
}

/** Hard links when the spool and the temporary folder share a file system (no copy), else copies. */
async function stageSeries(seriesDir: string, inputDir: string): Promise<void> {
  const { instances } = await scanSeriesDir(seriesDir);
  if (instances.length === 0) throw new EngineFailed('no DICOM files to give the command engine in the series folder');
  await mkdir(inputDir);
  let canLink = true;
  let i = 0;
  for (const inst of instances) {
    const dest = join(inputDir, `${String(++i).padStart(5, '0')}.dcm`);
    if (canLink) {
      try {
        await link(inst.path, dest);
        continue;
      } catch {
        canLink = false; // EXDEV (another file system) or links not allowed: copy from now on
      }
    }
    await copyFile(inst.path, dest);
  }
}

function run(program: string, args: string[], input: EngineInput, inputDir: string, outputDir: string, name: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const env: NodeJS.ProcessEnv = {};
  for (const k of PASSED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
  Object.assign(env, {
    ILDFLOW_INPUT_DIR: inputDir,
    ILDFLOW_OUTPUT_DIR: outputDir,
    ILDFLOW_STUDY_INSTANCE_UID: input.studyInstanceUid,
    ILDFLOW_SERIES_INSTANCE_UID: input.seriesInstanceUid,
  });
  return new Promise<void>((resolve, reject) => {
    const d = deadline(signal, timeoutMs);
    // detached: the program leads its own process group, so killing -pid also ends whatever it started.
    const child = spawn(program, args, { env, cwd: outputDir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-STDERR_TAIL_BYTES);
    });
    let killTimer: NodeJS.Timeout | undefined;
    const onStop = (): void => {
      killGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    d.signal.addEventListener('abort', onStop, { once: true });
    child.once('error', (err) => {
      finish();
      reject(new EngineFailed(`${name} could not be started: ${err.message}`));
    });
    child.once('close', (code, sig) => {
      finish();
      if (d.timedOut()) return reject(new EngineFailed(`${name} did not finish within ${timeoutMs / 1000} s and was killed`, { retryable: true }));
      if (signal.aborted) return reject(signal.reason as Error);
      if (code === 0) return resolve();
      if (code === EXIT_NOT_ELIGIBLE) return reject(new NotEligible([`${name} refused the series: ${quote(stderr)}`]));
      const how = sig ? `was killed by ${sig}` : `exited with code ${code}`;
      reject(new EngineFailed(`${name} ${how}: ${quote(stderr)}`, { retryable: true }));
    });
    function finish(): void {
      live.delete(child);
      d.signal.removeEventListener('abort', onStop);
      d.clear();
      // The leader is gone; make sure nothing it started outlives it.
      killGroup(child, 'SIGKILL');
      if (killTimer) clearTimeout(killTimer);
    }
  });
}

async function readResult(file: string, name: string, input: EngineInput): Promise<EngineResult> {
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.byteLength > MAX_RESULT_BYTES) throw new EngineFailed(`${name} wrote a result.json of ${buf.byteLength} bytes: not an engine result`);
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof EngineFailed) throw err;
    throw new EngineFailed(`${name} exited without writing result.json to ILDFLOW_OUTPUT_DIR`);
  }
  return acceptAnswer(name, text, input);
}

/** Moves the program's `seg.dcm` to where ildflow checks it (copies across file systems); none: nothing. */
async function takeLabelMap(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // no label map: the case records that this engine returned none
    if (code !== 'EXDEV') throw err;
    await copyFile(from, to);
  }
}

function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    // the group is already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) killGroup(c, 'SIGKILL');
  });
}
