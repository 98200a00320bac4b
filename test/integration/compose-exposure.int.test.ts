/**
 * What docker-compose.yml exposes (issue 11, F13): every published port binds loopback, and Orthanc's
 * DICOM port takes C-STORE only from the modalities it lists (by AE title and host), not from any calling
 * AE. The second half runs a real Orthanc with the DICOM settings compose gives it, and with Orthanc's
 * default, and sends a file with DCMTK storescu from a listed and an unlisted AE title.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { isOrthancInstalled, startOrthanc } from '../helpers/orthanc.js';

const COMPOSE = new URL('../../docker-compose.yml', import.meta.url);

/** The `ORTHANC__*` settings of the orthanc service, as the orthancteam image turns them into configuration keys. */
function orthancDicomSettings(compose: string): Record<string, unknown> {
  const block = compose.slice(compose.indexOf('\n  orthanc:'), compose.indexOf('\n  api:'));
  const out: Record<string, unknown> = {};
  for (const m of block.matchAll(/^\s+ORTHANC__(DICOM(?:_[A-Z]+)+):\s*"?([^"\n]*)"?$/gm)) {
    const key = m[1]!.split('_').map((w) => (w === 'AET' ? 'Aet' : w[0] + w.slice(1).toLowerCase())).join('');
    out[key] = m[2] === 'true' ? true : m[2] === 'false' ? false : m[2];
  }
  return out;
}

describe('docker-compose.yml', () => {
  it('publishes every port on loopback only', async () => {
    const compose = await readFile(COMPOSE, 'utf8');
    const published = [...compose.matchAll(/^\s+ports:\s*\[(.*)\]/gm)].flatMap((m) => m[1]!.split(',').map((p) => p.trim().replace(/"/g, '')));
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) expect(p, p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('lets Orthanc take C-STORE only from listed modalities, checked by host as well as AE title', async () => {
    const s = orthancDicomSettings(await readFile(COMPOSE, 'utf8'));
    expect(s).toMatchObject({ DicomAlwaysAllowStore: false, DicomCheckModalityHost: true });
  });
});

describe.skipIf(!isOrthancInstalled())("Orthanc's C-STORE with compose's DICOM settings (real Orthanc, storescu)", () => {
  let work: string;
  let file: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-compose-'));
    file = (await generatePhantom({ dir: join(work, 's'), pattern: 'normal', seed: 3, rows: 32, columns: 32, slices: 3 })).files[0]!;
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  const store = (aet: string, port: number) =>
    spawnSync('storescu', ['-aet', aet, '-aec', 'ORTHANC', '127.0.0.1', String(port), file], { encoding: 'utf8', env: { ...process.env, TCP_NODELAY: '1' } }).status;

  it('refuses an unlisted AE title and takes a listed one; Orthanc alone would take any', async () => {
    const compose = orthancDicomSettings(await readFile(COMPOSE, 'utf8'));
    const hardened = await startOrthanc({ modalities: { MODALITY1: ['MODALITY1', '127.0.0.1', 104] }, config: { DicomAlwaysAllowStore: compose.DicomAlwaysAllowStore, DicomCheckModalityHost: compose.DicomCheckModalityHost } });
    const permissive = await startOrthanc({ config: { DicomAlwaysAllowStore: true } });
    try {
      expect(store('INTRUDER', hardened.dicomPort)).not.toBe(0);
      expect(store('MODALITY1', hardened.dicomPort)).toBe(0);
      expect(store('INTRUDER', permissive.dicomPort)).toBe(0); // what compose left to Orthanc's default before
    } finally {
      await hardened.close();
      await permissive.close();
    }
  });
});
