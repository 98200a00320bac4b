/**
 * Worker-thread entry of the reference engine: one thread per analysis, started by
 * `createReferenceEngine().analyze`, which terminates it on abort. Posts one `ThreadReply` and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AppError, NotEligible } from '../../errors.js';
import { analyzeSeriesDir, type ThreadReply, type ThreadRequest } from './reference-engine.js';

const request = workerData as ThreadRequest;
let reply: ThreadReply;
try {
  reply = { ok: true, result: await analyzeSeriesDir(request.dir, request.ids, { threads: request.threads, labelMapPath: request.labelMapPath }) };
} catch (err) {
  reply = {
    ok: false,
    error:
      err instanceof AppError
        ? { name: err.name, detail: err.detail, ...(err instanceof NotEligible ? { reasons: err.reasons } : {}) }
        : { name: 'EngineFailed', detail: `reference engine crashed: ${err instanceof Error ? err.message : String(err)}` },
  };
}
parentPort?.postMessage(reply);
