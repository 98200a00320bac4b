/**
 * The artifact store on disk (ILDFLOW_DATA_DIR; a shared volume when workers run on several machines):
 * spooled series and finished documents, per case. Writes go to a temporary name and are renamed into
 * place, so a reader never sees half a file and a crash leaves no torn artifact.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactRef } from '../domain/case.js';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export type ArtifactStore = ReturnType<typeof createArtifactStore>;

export function createArtifactStore(dataDir: string, clock: () => Date = () => new Date()) {
  const caseDir = (caseId: string) => join(dataDir, 'cases', caseId);
  const artifactPath = (caseId: string, name: string) => {
    if (!SAFE_NAME.test(name)) throw new Error(`unsafe artifact name ${JSON.stringify(name)}`);
    return join(caseDir(caseId), 'artifacts', name);
  };

  return {
    caseDir,
    artifactPath,
    seriesDir: (caseId: string) => join(caseDir(caseId), 'series'),

    /** A fresh, empty folder to retrieve into; `commitSeries` renames it into place once complete. */
    async freshSpool(caseId: string): Promise<string> {
      const dir = join(caseDir(caseId), `spool-${randomUUID()}`);
      await mkdir(dir, { recursive: true });
      return dir;
    },

    async commitSeries(caseId: string, spoolDir: string): Promise<string> {
      const dest = join(caseDir(caseId), 'series');
      await rm(dest, { recursive: true, force: true });
      await rename(spoolDir, dest);
      // Earlier attempts' spools (a worker killed mid-transfer) are no longer needed.
      for (const e of await readdir(caseDir(caseId)))
        if (e.startsWith('spool-')) await rm(join(caseDir(caseId), e), { recursive: true, force: true });
      return dest;
    },

    async discard(dir: string): Promise<void> {
      await rm(dir, { recursive: true, force: true });
    },

    /**
     * Removes a case's spooled series and any earlier attempt's spool, keeping its documents (`artifacts/`).
     * Returns the bytes freed. Idempotent: a purge repeated after a crash frees nothing more.
     */
    async purgeSeries(caseId: string): Promise<number> {
      const entries = await readdir(caseDir(caseId)).catch(() => [] as string[]);
      let bytes = 0;
      for (const e of entries.filter((n) => n === 'series' || n.startsWith('spool-'))) {
        const dir = join(caseDir(caseId), e);
        bytes += await bytesUnder(dir);
        await rm(dir, { recursive: true, force: true });
      }
      return bytes;
    },

    /** A path in the case's artifact folder for a file someone else writes (an engine's label map), emptied. */
    async scratchPath(caseId: string, name: string): Promise<string> {
      const path = artifactPath(caseId, name);
      await mkdir(join(caseDir(caseId), 'artifacts'), { recursive: true });
      await rm(path, { force: true });
      return path;
    },

    /** Moves a file written at `from` (in the case's artifact folder) into place as the artifact `name`. */
    async adoptArtifact(caseId: string, name: string, mediaType: string, from: string): Promise<ArtifactRef> {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(from)) hash.update(chunk as Buffer);
      const { size } = await stat(from);
      await rename(from, artifactPath(caseId, name));
      return { name, mediaType, sha256: hash.digest('hex'), bytes: size, createdAt: clock().toISOString() };
    },

    async writeArtifact(caseId: string, name: string, mediaType: string, data: Buffer | string): Promise<ArtifactRef> {
      const path = artifactPath(caseId, name);
      await mkdir(join(caseDir(caseId), 'artifacts'), { recursive: true });
      const tmp = `${path}.${randomUUID()}.tmp`;
      await writeFile(tmp, data);
      await rename(tmp, path);
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      return {
        name,
        mediaType,
        sha256: createHash('sha256').update(buf).digest('hex'),
        bytes: buf.length,
        createdAt: clock().toISOString(),
      };
    },
  };
}

/** The bytes of the files below `dir` (0 when it is gone). */
async function bytesUnder(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let n = 0;
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += await bytesUnder(p);
    else if (e.isFile()) n += (await stat(p)).size;
  }
  return n;
}

/** Replaces the artifact of the same name in a case's list, or adds it. */
export function withArtifact(list: readonly ArtifactRef[], a: ArtifactRef): ArtifactRef[] {
  return [...list.filter((x) => x.name !== a.name), a];
}
