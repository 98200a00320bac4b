/**
 * The production install, as the Dockerfile builds it (issue 11): the build stage's files copied into a
 * temporary folder, `npm ci` (whose prepare script builds dist/), `npm prune --omit=dev`, then the runtime
 * stage's files (node_modules, dist, bin, package.json) moved into a folder of their own. The Dockerfile
 * is parsed, not restated, so the image and this check cannot drift apart.
 *
 * Then: every package that dist/ loads at run time must be a declared runtime dependency (a package that
 * is only pulled in by another one may vanish with its next release), and `node bin/ildflow.js start`
 * from that folder takes a case to `billed` with every output on: a folder PACS, HL7 DFT^P03 over MLLP to
 * a real listener, the signed webhook (whose FHIR validators are loaded only when it is configured), the
 * ORU^R01 to the EHR's results listener; and its HL7 order listener acknowledges an ORM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { builtinModules } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REFERENCE_DESCRIPTOR } from '../../shared/engines/reference/descriptor.js';
import { checkRequirements } from '../../shared/engines/requirements.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { connectMllp, ormMessage } from '../helpers/hl7-orders.js';
import { startMllpListener, type MllpListener } from '../helpers/mllp-listener.js';
import { TOKENS, USERS } from '../helpers/pipeline-harness.js';
import { freePort, stop } from '../helpers/processes.js';
import { newPrefix, removePrefix, TEST_REDIS_URL } from '../helpers/redis-keys.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'whsec-prod-install-0123456789';
const PATIENT = { id: 'MRN-PROD-4410', name: 'VANTERPOOL^ILSE', birthDate: '1955-07-02', sex: 'F' };

/**
 * Packages dist/ may name without declaring them as runtime dependencies, each with the only compiled
 * files allowed to load it (a new importer fails the check) and why the image does without it.
 */
const DEV_ONLY: Record<string, { files: string[]; why: string }> = {
  autocannon: { files: ['services/cli/bench-api.js'], why: '`ildflow bench` only, which also needs Orthanc and DCMTK: a developer command, not part of the image' },
  tsx: { files: ['shared/engines/reference/threads.js'], why: 'resolved only when the engine runs from its .ts sources (vitest, tsx)' },
};

/**
 * devDependencies that `npm prune --omit=dev` keeps, and why. npm keeps a package that a runtime package
 * names as an optional peer (the lock file marks it devOptional); only `--omit=optional` would drop it,
 * and that would drop msgpackr-extract (bullmq's native msgpack) with it.
 */
const KEPT_BY_PRUNE: Record<string, string> = {
  typescript: 'optional peer of valibot, which @bull-board/api depends on',
};

// ---------------------------------------------------------------------------------------------------
// The Dockerfile, read as far as this check needs it: stages, WORKDIR, ENV, COPY, RUN, ENTRYPOINT, CMD.

type Copy = Readonly<{ from?: string; sources: string[]; dest: string; intoDir: boolean }>;
type Stage = { name?: string; workdir: string; env: Record<string, string>; copies: Copy[]; runs: string[]; entrypoint: string[]; cmd: string[] };

function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, instr = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const words = rest.split(/\s+/).filter(Boolean);
    const stage = stages.at(-1);
    switch (instr.toUpperCase()) {
      case 'FROM':
        stages.push({ name: /\bAS\s+(\S+)/i.exec(rest)?.[1], workdir: '/', env: {}, copies: [], runs: [], entrypoint: [], cmd: [] });
        break;
      case 'WORKDIR':
        stage!.workdir = posix.resolve(stage!.workdir, rest);
        break;
      case 'ENV':
        for (const kv of words) stage!.env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
        break;
      case 'COPY': {
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        const dest = paths.at(-1)!;
        stage!.copies.push({ from, sources: paths.slice(0, -1), dest: posix.resolve(stage!.workdir, dest), intoDir: dest.endsWith('/') || dest === '.' });
        break;
      }
      case 'RUN':
        stage!.runs.push(rest);
        break;
      case 'ENTRYPOINT':
        stage!.entrypoint = JSON.parse(rest) as string[];
        break;
      case 'CMD':
        stage!.cmd = JSON.parse(rest) as string[];
        break;
    }
  }
  return stages;
}

/** Carries out a stage's COPY lines: from the build context (the repository) or from an earlier stage's folder. */
async function applyCopies(stage: Stage, root: string, stageRoots: Record<string, { dir: string; workdir: string }>): Promise<void> {
  const ignored = (await readFile(join(REPO, '.dockerignore'), 'utf8')).split(/\r?\n/).map((l) => l.trim().replace(/^\/|\/$/g, '')).filter((l) => l && !l.startsWith('#'));
  const inStage = (p: string) => join(root, relative(stage.workdir, p));
  for (const c of stage.copies) {
    for (const src of c.sources) {
      const dest = c.sources.length > 1 || c.intoDir ? join(inStage(c.dest), posix.basename(src)) : inStage(c.dest);
      await mkdir(dirname(dest), { recursive: true });
      if (c.from) {
        const prev = stageRoots[c.from];
        if (!prev) throw new Error(`COPY --from=${c.from}: no such stage`);
        // The earlier stage's folder is not used again: moving is the same as copying, and quicker.
        await rename(join(prev.dir, relative(prev.workdir, src)), dest);
      } else {
        if (ignored.includes(src.replace(/\/$/, ''))) throw new Error(`COPY ${src}: excluded by .dockerignore`);
        await stat(join(REPO, src)).catch(() => {
          throw new Error(`COPY ${src}: not in the build context (docker build would fail too)`);
        });
        await cp(join(REPO, src), dest, { recursive: true, filter: (p) => !ignored.includes(relative(REPO, p)) });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The packages that compiled code loads: static and dynamic imports, require() (createRequire), and
// import.meta.resolve(), with a string literal as the specifier.

const SPECIFIER = [
  /\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\bimport\.meta\.resolve\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** A bare specifier: a package name, maybe scoped, maybe with a subpath. */
const BARE = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/.*)?$/i;

function packageOf(specifier: string): string | null {
  if (!BARE.test(specifier) || specifier.startsWith('node:')) return null;
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
  return builtinModules.includes(name) ? null : name;
}

/** Package name → the compiled files (relative to dist/) that load it. */
async function bareImports(distDir: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const files = (await readdir(distDir, { recursive: true })).filter((f) => f.endsWith('.js'));
  for (const file of files) {
    const code = await readFile(join(distDir, file), 'utf8');
    for (const re of SPECIFIER) {
      for (const m of code.matchAll(re)) {
        const pkg = packageOf(m[1]!);
        if (!pkg) continue;
        const importers = out.get(pkg) ?? [];
        if (!importers.includes(file)) importers.push(file);
        out.set(pkg, importers);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------

/** docs/billing.md, "Verifying the webhook signature", as a receiver would write it from the docs. */
function verifySignature(headers: IncomingHttpHeaders, rawBody: string, secret: string): boolean {
  const items = String(headers['x-ildflow-signature'] ?? '').split(',').map((kv) => kv.split('=', 2) as [string, string]);
  const t = Number(items.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return items.some(([k, v]) => k === 'v1' && Buffer.from(v ?? '', 'hex').length === expected.length && timingSafeEqual(Buffer.from(v ?? '', 'hex'), expected));
}

/** Runs a command to completion; rejects with the tail of its output when it fails. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out.slice(-4000)}`))));
  });
}

/**
 * The environment of the nested npm: none of the calling npm's own variables (npm_config_local_prefix,
 * npm_lifecycle_*, …, set when this runs under `npm test`) and no NODE_ENV; the registry, the cache, proxies
 * and CA certificates pass through.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = /^(PATH|HOME|TMPDIR|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|https?_proxy|no_proxy|npm_config_(registry|cache|userconfig|ca|cafile|strict_ssl|proxy|https_proxy|noproxy))$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => keep.test(k)));
}

const t0 = Date.now();
const progress = (what: string) => process.stderr.write(`[production-install +${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);

describe('the production install (as the Dockerfile builds the image)', () => {
  let work = '';
  let app = ''; // the runtime stage's folder: node_modules, dist, bin, package.json
  let runtime: Stage | undefined;
  let child: ChildProcess | undefined;
  let childOutput = '';
  let mllp: MllpListener | undefined;
  let ehr: MllpListener | undefined;
  let receiver: Server | undefined;
  const prefix = newPrefix('prod-install');

  afterAll(async () => {
    if (child) await stop(child, 'SIGTERM', 15_000);
    await mllp?.close();
    await ehr?.close();
    receiver?.closeAllConnections();
    receiver?.close();
    await removePrefix(prefix);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('installs as the image does: npm ci (builds dist/), npm prune --omit=dev, the runtime stage alone', async () => {
    const stages = parseDockerfile(await readFile(join(REPO, 'Dockerfile'), 'utf8'));
    const build = stages.find((s) => s.name === 'build');
    runtime = stages.at(-1);
    expect(build, 'the Dockerfile has a stage named build').toBeDefined();
    // The commands below are the build stage's RUN (plus --prefer-offline: the cache is warm on CI).
    expect(build!.runs).toEqual(['npm ci --no-audit --no-fund && npm prune --omit=dev']);
    expect(runtime!.copies.filter((c) => c.from === 'build').length).toBeGreaterThan(0);

    work = await mkdtemp(join(tmpdir(), 'ildflow-prod-'));
    const buildDir = join(work, 'build');
    const appDir = join(work, 'app');
    await mkdir(buildDir);
    await mkdir(appDir);
    await applyCopies(build!, buildDir, {});
    progress(`build stage copied (${(await readdir(buildDir)).join(' ')}); npm ci …`);

    await run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], buildDir, npmEnv());
    progress('npm ci done (dist/ built); npm prune --omit=dev …');
    await run('npm', ['prune', '--omit=dev'], buildDir, npmEnv());
    progress('pruned');

    const pkg = JSON.parse(await readFile(join(buildDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const installed = async (name: string) => stat(join(buildDir, 'node_modules', name, 'package.json')).then(() => true, () => false);
    for (const dev of ['vitest', 'eslint', 'tsx', 'playwright-core', '@types/node']) expect(await installed(dev), `${dev} is pruned`).toBe(false);
    const kept: string[] = [];
    for (const dev of Object.keys(pkg.devDependencies)) if (await installed(dev)) kept.push(dev);
    // Soft: a runtime package that only came along with another one (dcmjs-codecs did) shows here, and the
    // tests below still run and say what breaks.
    expect.soft(kept, 'devDependencies left after the prune').toEqual(Object.keys(KEPT_BY_PRUNE));
    for (const dep of Object.keys(pkg.dependencies)) expect(await installed(dep), `${dep} is installed`).toBe(true);
    expect(await stat(join(buildDir, 'dist/services/cli/entry.js')).then(() => true, () => false), 'dist/ was built').toBe(true);

    await applyCopies(runtime!, appDir, { build: { dir: buildDir, workdir: build!.workdir } });
    expect((await readdir(appDir)).sort()).toEqual(['bin', 'dist', 'node_modules', 'package.json']);
    app = appDir;
  }, 300_000);

  it('declares every package that dist/ loads at run time as a runtime dependency', async () => {
    expect(app, 'the install above failed').not.toBe('');
    const pkg = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const imports = await bareImports(join(app, 'dist'));
    expect(imports.size, 'the scan found the imports').toBeGreaterThan(5);
    const problems: string[] = [];
    for (const [name, files] of [...imports].sort(([a], [b]) => a.localeCompare(b))) {
      const exempt = DEV_ONLY[name];
      if (exempt) {
        const others = files.filter((f) => !exempt.files.includes(f));
        if (others.length) problems.push(`${name} (dev-only: ${exempt.why}) is now also loaded by ${others.join(', ')}`);
        continue;
      }
      if (!(name in pkg.dependencies)) {
        problems.push(`${name} is loaded by ${files.join(', ')} but is ${name in pkg.devDependencies ? 'a devDependency' : 'not declared'}`);
      } else if (!(await stat(join(app, 'node_modules', name, 'package.json')).then(() => true, () => false))) {
        problems.push(`${name} is declared but missing from the pruned node_modules`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('starts from the pruned install with every output on and takes a case to billed', async () => {
    expect(app, 'the install above failed').not.toBe('');
    // A folder PACS with one small, eligible series: 128 × 128 × 80 at 1 mm pixels and 2.5 mm slices.
    const pacs = join(work, 'pacs');
    const { groundTruth: gt } = await generatePhantom({
      dir: join(pacs, 'study'),
      pattern: 'uip',
      seed: 7,
      rows: 128,
      columns: 128,
      slices: 80,
      sliceThicknessMm: 2.5,
      pixelSpacingMm: 1,
      patient: { id: PATIENT.id, name: PATIENT.name, birthDate: PATIENT.birthDate.replace(/-/g, ''), sex: 'F' },
      study: { accessionNumber: 'ACC-PROD-1', studyDate: '20261020' },
    });
    const summary = {
      modality: 'CT',
      sliceCount: gt.size.slices,
      sliceThicknessMm: gt.sliceThicknessMm,
      pixelSpacingMm: [gt.pixelSpacingMm, gt.pixelSpacingMm] as const,
      coverageMm: gt.size.slices * gt.sliceSpacingMm,
      spacingVariation: 0,
    };
    expect(checkRequirements(summary, REFERENCE_DESCRIPTOR.requirements), 'the phantom is eligible').toEqual([]);

    mllp = await startMllpListener();
    ehr = await startMllpListener(); // the EHR's results interface (ORU^R01)
    const hl7Port = await freePort();
    const hooks: { verified: boolean; body: any }[] = [];
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const verified = verifySignature(req.headers, raw, SECRET);
        hooks.push({ verified, body: JSON.parse(raw) });
        res.writeHead(verified ? 200 : 401).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await new Promise<void>((r) => receiver!.once('listening', r));

    const usersFile = join(work, 'users.json');
    await writeFile(usersFile, JSON.stringify(USERS));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const [exe, ...args] = [...runtime!.entrypoint, ...runtime!.cmd];
    expect(exe).toBe('node');
    child = spawn(process.execPath, args, {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...runtime!.env, // NODE_ENV=production, as in the image
        REDIS_URL: TEST_REDIS_URL,
        ILDFLOW_REDIS_PREFIX: prefix,
        ILDFLOW_HOST: '127.0.0.1',
        ILDFLOW_PORT: String(port),
        ILDFLOW_DATA_DIR: join(work, 'data'),
        ILDFLOW_PACS: pathToFileURL(pacs).href,
        ILDFLOW_USERS_FILE: usersFile,
        ILDFLOW_HL7_MLLP: mllp.url,
        ILDFLOW_HL7_LISTEN: `mllp://127.0.0.1:${hl7Port}`,
        ILDFLOW_RESULTS_MLLP: ehr.url,
        ILDFLOW_BILLING_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/billing`,
        ILDFLOW_BILLING_WEBHOOK_SECRET: SECRET,
        ILDFLOW_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (childOutput = (childOutput + String(d)).slice(-20_000)));
    child.stderr!.on('data', (d) => (childOutput = (childOutput + String(d)).slice(-20_000)));
    const exited = new Promise<string>((resolve) => child!.once('exit', (code, signal) => resolve(`ildflow exited (${code ?? signal}):\n${childOutput.slice(-4000)}`)));

    /** Polls until `probe` answers, failing at once with the process's output if it exits. */
    async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        const v = await probe().catch((e: Error) => ((last = e.message), undefined));
        if (v !== undefined) return v;
        if (child!.exitCode !== null || child!.signalCode !== null) throw new Error(await exited);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${last}\n${childOutput.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as any };
    };
    const statusOf = (id: string, wanted: string) =>
      until(`case ${id} ${wanted}`, async () => {
        const r = await call('GET', `/v1/cases/${id}`, TOKENS.admin);
        const c = r.body?.case ?? r.body;
        if (['failed', 'ineligible', 'cancelled'].includes(c?.status)) throw new Error(`case ${id} is ${c.status}: ${JSON.stringify(r.body).slice(0, 2000)}`);
        return c?.status === wanted ? r.body : undefined;
      });

    await until('/readyz', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 30_000);
    progress('ildflow started from the pruned install');

    const created = await call('POST', '/v1/cases', TOKENS.orderer, {
      order: { id: 'ORD-PROD-1', orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10', 'R06.00'] },
      patient: PATIENT,
      coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: '2026-11-27' } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const id = created.body.id as string;

    const ready = await statusOf(id, 'awaiting_review');
    expect((ready.case ?? ready).result.classification.category).toBe('uip');
    progress('awaiting_review');
    expect((await call('POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status).toBe(200);
    const review = await call('POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'accept', attestation: true });
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    await statusOf(id, 'billed');
    progress('billed');

    // Both outputs delivered the charge: the DFT^P03 was accepted, the signed webhook received.
    await until('the DFT^P03 on the MLLP listener', async () => (mllp!.accepted().length > 0 ? true : undefined), 30_000);
    const msh = mllp.accepted()[0]!.split('\r')[0]!.split('|');
    expect(msh[8]).toBe('DFT^P03^DFT_P03');
    expect(mllp.accepted()[0]).toMatch(/\rFT1\|[^\r]*0877T/);
    await until('the signed webhook', async () => (hooks.length > 0 ? true : undefined), 30_000);
    expect(hooks[0]!.verified, 'the webhook signature verifies').toBe(true);
    expect(hooks[0]!.body).toMatchObject({ schema: 'ildflow.billing-webhook/1', type: 'charge.created', event: { caseId: id } });
    expect(hooks[0]!.body.chargeItems[0]).toMatchObject({ resourceType: 'ChargeItem', status: 'billable' });

    // The signed result reached the EHR as an ORU^R01, final.
    await until('the ORU^R01 on the results listener', async () => (ehr!.accepted().length > 0 ? true : undefined), 30_000);
    expect(ehr.accepted()[0]!.split('\r')[0]!.split('|')[8]).toBe('ORU^R01^ORU_R01');
    expect(ehr.accepted()[0]).toMatch(/\rOBR\|(?:[^|\r]*\|){24}F\|/);
    // The HL7 order listener runs from the pruned install too: an ORM NW is acknowledged AA.
    const orders = await connectMllp(`mllp://127.0.0.1:${hl7Port}`);
    orders.send(ormMessage({ orderId: 'ORD-PROD-HL7', controlId: 'PROD-1' }));
    expect((await orders.nextAck()).split('\r').find((seg) => seg.startsWith('MSA|'))).toBe('MSA|AA|PROD-1');
    orders.end();

    // SIGTERM, as `docker stop` sends it: a clean exit.
    const stopped = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    expect(child.exitCode, 'still running').toBeNull();
    child.kill('SIGTERM');
    expect(await stopped, `a clean shutdown:\n${childOutput.slice(-2000)}`).toBe(0);
  }, 120_000);
});
