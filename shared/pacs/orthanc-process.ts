/**
 * A real Orthanc 1.10 (with the DICOMweb and GDCM plugins) for the integration tests (test/helpers/orthanc.ts
 * re-exports this) and `ildflow bench`, started as docs/peers.md describes: free ports, a private temp dir, bounded readiness waits and a clean stop (Orthanc
 * needs about 2 s to exit after SIGTERM; the ports are reusable only once the pid is gone).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ORTHANC_BIN = '/usr/sbin/Orthanc';
export const PLUGINS = ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so', '/usr/share/orthanc/plugins/libOrthancGdcm.so'];
export const ORTHANC_USER = 'orch';
export const ORTHANC_PASSWORD = 'orch-secret';

export type OrthancOptions = {
  /** AET → [aet, host, port] of peers allowed C-FIND/C-GET/C-MOVE (and C-MOVE destinations). */
  modalities?: Record<string, [string, string, number]>;
  /** Lua script text (e.g. the OnStableStudy webhook of docs/pacs.md). */
  lua?: string;
  stableAgeSeconds?: number;
  httpPort?: number;
  dicomPort?: number;
  /** Configuration keys that replace the defaults below (e.g. DicomAlwaysAllowStore). */
  config?: Record<string, unknown>;
};

export type Orthanc = Readonly<{
  httpPort: number;
  dicomPort: number;
  aet: string;
  /** http://127.0.0.1:PORT */
  base: string;
  /** The ILDFLOW_PACS value for DICOMweb. */
  dicomWebUrl: string;
  /** The ILDFLOW_PACS_AUTH value. */
  auth: string;
  /** fetch against the REST API with the test credentials. */
  rest(path: string, init?: RequestInit): Promise<Response>;
  /** Sends Part 10 files with DCMTK storescu (uncompressed only, docs/peers.md). */
  storescu(files: readonly string[]): void;
  /** Stops Orthanc (SIGTERM, bounded wait, then SIGKILL); the database stays for `start()`. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and database. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}>;

/** A port the kernel just handed out on 127.0.0.1 (released before use: good enough for tests). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  srv.close();
  await once(srv, 'close');
  return port;
}

export function isOrthancInstalled(): boolean {
  return spawnSync(ORTHANC_BIN, ['--version'], { encoding: 'utf8' }).status === 0;
}

export async function startOrthanc(opts: OrthancOptions = {}): Promise<Orthanc> {
  const dir = await mkdtemp(join(tmpdir(), 'ildflow-orthanc-'));
  const httpPort = opts.httpPort ?? (await freePort());
  const dicomPort = opts.dicomPort ?? (await freePort());
  const luaPath = join(dir, 'webhook.lua');
  if (opts.lua) await writeFile(luaPath, opts.lua);
  const config = {
    Name: 'ORTHANC-TEST',
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    Plugins: PLUGINS,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: true,
    RegisteredUsers: { [ORTHANC_USER]: ORTHANC_PASSWORD },
    DicomAet: 'ORTHANC',
    DicomPort: dicomPort,
    DicomCheckCalledAet: false,
    DicomAlwaysAllowEcho: true,
    DicomAlwaysAllowStore: true,
    DicomModalities: { STORESCU: ['STORESCU', '127.0.0.1', 104], ...(opts.modalities ?? {}) },
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
    StableAge: opts.stableAgeSeconds ?? 2,
    SaveJobs: false,
    OverwriteInstances: true,
    SynchronousCMove: true,
    LuaScripts: opts.lua ? [luaPath] : [],
    // Bounds the Lua webhook's HttpPost, so a stopped ildflow API does not hold Orthanc's Lua engine.
    HttpTimeout: 10,
    ...opts.config,
  };
  const configPath = join(dir, 'orthanc.json');
  await writeFile(configPath, JSON.stringify(config, null, 2));
  const base = `http://127.0.0.1:${httpPort}`;
  const authHeader = `Basic ${Buffer.from(`${ORTHANC_USER}:${ORTHANC_PASSWORD}`).toString('base64')}`;
  let proc: ChildProcess | null = null;
  let stderr = '';

  async function start(): Promise<void> {
    stderr = '';
    // TCP_NODELAY=1 is read by DCMTK's network layer inside Orthanc: ~8× faster DIMSE on loopback (docs/peers.md).
    const p = spawn(ORTHANC_BIN, [configPath], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8000);
    });
    proc = p;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (p.exitCode !== null) throw new Error(`Orthanc exited with ${p.exitCode} at start:\n${stderr}`);
      try {
        const r = await fetch(`${base}/system`, { headers: { authorization: authHeader }, signal: AbortSignal.timeout(1000) });
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    p.kill('SIGKILL');
    throw new Error(`Orthanc did not answer GET /system within 15 s:\n${stderr}`);
  }

  async function stop(): Promise<void> {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = once(p, 'exit');
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    httpPort,
    dicomPort,
    aet: 'ORTHANC',
    base,
    dicomWebUrl: `${base}/dicom-web`,
    auth: `basic:${ORTHANC_USER}:${ORTHANC_PASSWORD}`,
    rest: (path, init) => fetch(base + path, { ...init, headers: { authorization: authHeader, ...(init?.headers ?? {}) } }),
    storescu(files) {
      // In batches: one association per call, and argv stays short.
      for (let i = 0; i < files.length; i += 200) {
        const r = spawnSync('storescu', ['-aet', 'STORESCU', '-aec', 'ORTHANC', '127.0.0.1', String(dicomPort), ...files.slice(i, i + 200)], {
          encoding: 'utf8',
          env: { ...process.env, TCP_NODELAY: '1' },
        });
        if (r.status !== 0) throw new Error(`storescu failed (${r.status}): ${r.stderr}`);
      }
    },
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Rewrites attributes of generated files with DCMTK `dcmodify` (insert or overwrite), e.g. to turn a
 * phantom series into a localizer or a soft-tissue reconstruction. Values use DICOM's `\` separator.
 */
export function retag(files: readonly string[], tags: Readonly<Record<string, string>>): void {
  const args = ['-nb', '-q', ...Object.entries(tags).flatMap(([tag, value]) => ['-i', `${tag}=${value}`])];
  for (let i = 0; i < files.length; i += 200) {
    const r = spawnSync('dcmodify', [...args, ...files.slice(i, i + 200)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`dcmodify failed (${r.status}): ${r.stderr}`);
  }
}

/** The OnStableStudy webhook of docs/pacs.md (keep the two identical), pointed at `apiBase`. */
export function webhookLua(apiBase: string, pacsToken: string): string {
  return `-- ildflow: resume cases awaiting this study (docs/pacs.md). Fire-and-forget; the /changes poller reconciles.
function OnStableStudy(studyId, tags, metadata)
  local study = ParseJson(RestApiGet('/studies/' .. studyId))
  HttpPost('${apiBase}/v1/triggers/orthanc',
    DumpJson({ event = 'StableStudy', orthancStudyId = studyId,
               studyInstanceUID = tags['StudyInstanceUID'], accessionNumber = tags['AccessionNumber'],
               patientID = study['PatientMainDicomTags']['PatientID'] }, true),
    { ['Content-Type'] = 'application/json', ['Authorization'] = 'Bearer ${pacsToken}' })
end
`;
}
