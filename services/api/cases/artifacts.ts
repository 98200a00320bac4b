/**
 * Artifacts of a case: files under `${ILDFLOW_DATA_DIR}/cases/<id>/artifacts/<name>`. Only names the case
 * lists are served, and the resolved path must stay inside that folder, so no request can reach another
 * file (CWE-22 path traversal).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { RequestHandler } from 'express';
import { NotFound } from '../../../shared/errors.js';
import { imagesLocation } from '../../../shared/lifecycle/spool-retention.js';
import type { ApiDeps } from '../deps.js';
import { auditRead } from '../mount.js';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const listArtifacts =
  (deps: Pick<ApiDeps, 'store'>): RequestHandler =>
  async (req, res) => {
    const c = await deps.store.get(String(req.params.id));
    await auditRead(deps.store, req, res, 'artifact.list', c.id);
    // The documents stay for good; the series only while retention keeps it (docs/operations.md "Spool retention").
    res.json({ items: c.artifacts, images: imagesLocation(c) });
  };

export function artifactPath(dataDir: string, caseId: string, name: string): string | null {
  if (!SAFE_NAME.test(name) || !SAFE_NAME.test(caseId)) return null;
  const dir = path.resolve(dataDir, 'cases', caseId, 'artifacts');
  const file = path.resolve(dir, name);
  return file.startsWith(dir + path.sep) ? file : null;
}

export const getArtifact =
  (deps: Pick<ApiDeps, 'store' | 'config'>): RequestHandler =>
  async (req, res) => {
    const c = await deps.store.get(String(req.params.id));
    const name = String(req.params.name);
    const ref = c.artifacts.find((a) => a.name === name);
    const file = ref && artifactPath(deps.config.ILDFLOW_DATA_DIR, c.id, ref.name);
    if (!ref || !file) throw new NotFound(`case ${c.id} has no artifact ${name}`);
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) throw new NotFound(`artifact ${name} of case ${c.id} is listed but missing from storage`);
    await auditRead(deps.store, req, res, 'artifact.read', c.id);
    res.status(200).type(ref.mediaType).setHeader('Content-Length', String(st.size));
    res.setHeader('Content-Disposition', `attachment; filename="${ref.name}"`);
    await pipeline(createReadStream(file), res);
  };
