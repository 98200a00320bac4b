/**
 * /readyz as the runtime wires it (issue 11, F6): the route is public, so it must be cheap and say
 * nothing internal. A flood of probes makes at most one authenticated QIDO-RS request to the PACS per
 * interval and opens no Redis connection of its own (a private redis-server counts connections exactly);
 * a failure answers a generic text and the detail (the PACS URL, the error) goes to the log only.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { openRuntime, type Runtime } from '../../services/cli/runtime.js';
import { recordingForwarder } from '../helpers/forwarder.js';
import { isOrthancInstalled, startOrthanc, type Orthanc } from '../helpers/orthanc.js';
import { USERS } from '../helpers/pipeline-harness.js';
import { freePort, startAofRedis, stop } from '../helpers/processes.js';

/** New connections the Redis server accepted so far (INFO stats). */
async function connectionsReceived(redis: Redis): Promise<number> {
  return Number(/total_connections_received:(\d+)/.exec(await redis.info('stats'))![1]);
}

describe.skipIf(!isOrthancInstalled())('readiness (runtime, private Redis, real Orthanc)', () => {
  let work: string;
  let orthanc: Orthanc;
  let forwarder: Awaited<ReturnType<typeof recordingForwarder>>;
  let redisServer: ChildProcess;
  let redisUrl: string;
  let probe: Redis;
  const runtimes: Runtime[] = [];
  let logs = '';

  async function api(pacs: string): Promise<Runtime> {
    const sink = new Writable({ write: (chunk, _enc, cb) => void ((logs += String(chunk)), cb()) });
    const config = loadConfig({
      REDIS_URL: redisUrl,
      ILDFLOW_PORT: '0',
      ILDFLOW_DATA_DIR: join(work, 'data'),
      ILDFLOW_PACS: pacs,
      ILDFLOW_PACS_AUTH: orthanc.auth,
      ILDFLOW_USERS_FILE: '(in memory)',
    });
    const rt = await openRuntime(config, { roles: ['api'], users: USERS, logger: createLogger({ level: 'info', destination: sink }) });
    runtimes.push(rt);
    return rt;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-readyz-'));
    orthanc = await startOrthanc();
    forwarder = await recordingForwarder(orthanc.base);
    const port = await freePort();
    redisServer = await startAofRedis(work, port);
    redisUrl = `redis://127.0.0.1:${port}`;
    probe = new Redis(redisUrl);
  });
  afterAll(async () => {
    for (const rt of runtimes) await rt.close();
    probe?.disconnect();
    await forwarder?.close();
    await orthanc?.close();
    if (redisServer) await stop(redisServer);
    await rm(work, { recursive: true, force: true });
  });

  it('answers a flood of /readyz with at most one PACS request and no new Redis connection', async () => {
    const rt = await api(`${forwarder.url}/dicom-web`);
    await probe.ping();
    const [pacsBefore, connectionsBefore] = [forwarder.count(), await connectionsReceived(probe)];
    const answers = await Promise.all(Array.from({ length: 40 }, () => fetch(`${rt.url}/readyz`)));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    for (let i = 0; i < 10; i++) expect((await fetch(`${rt.url}/readyz`)).status).toBe(200);
    expect.soft(forwarder.count() - pacsBefore, 'PACS requests for 50 readiness probes').toBeLessThanOrEqual(1);
    expect.soft(await connectionsReceived(probe), 'Redis connections opened by 50 readiness probes').toBe(connectionsBefore);
  });

  it('says only "failed" publicly when the PACS does not answer, and logs the detail', async () => {
    const closed = await freePort();
    const rt = await api(`http://127.0.0.1:${closed}/dicom-web`);
    const res = await fetch(`${rt.url}/readyz`);
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(text).checks).toEqual({ redis: 'ok', pacs: 'failed', disk: 'ok' });
    for (const internal of [String(closed), '127.0.0.1', 'dicom-web', 'ECONNREFUSED', 'QIDO']) expect(text, `the answer names ${internal}`).not.toContain(internal);
    const logged = logs.split('\n').find((l) => l.includes('readiness check failed') && l.includes('"check":"pacs"'));
    expect(logged, 'the failure is logged with its detail').toContain(String(closed));
  });
});
