import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { mount } from '../mount.js';
import { getArtifact, listArtifacts } from './artifacts.js';
import { cancelCase } from './cancel-case.js';
import { createCase } from './create-case.js';
import { getCase } from './get-case.js';
import { listCases } from './list-cases.js';
import { createAuditOnce } from './audit-once.js';
import { getSlice, getSliceLabels, getViewer } from './viewer.js';
import { createSeriesViewerCache } from '../../../shared/viewer/series-viewer.js';

/** ILDFLOW_VIEWER_CACHE_BYTES's default (shared/config.ts), for apps built without it (tests). */
const DEFAULT_VIEWER_CACHE_BYTES = 256 * 1024 ** 2;

export function casesRoutes(deps: ApiDeps): Router {
  const r = Router();
  mount(r, deps, 'createCase', createCase(deps));
  mount(r, deps, 'listCases', listCases(deps));
  mount(r, deps, 'getCase', getCase(deps));
  mount(r, deps, 'cancelCase', cancelCase(deps));
  mount(r, deps, 'listArtifacts', listArtifacts(deps));
  mount(r, deps, 'getArtifact', getArtifact(deps));
  // One cache and one audit memory per app: the viewer's slices (docs/review.md "The viewer").
  const viewer = {
    ...deps,
    viewerCache: createSeriesViewerCache(deps.config.ILDFLOW_VIEWER_CACHE_BYTES ?? DEFAULT_VIEWER_CACHE_BYTES),
    viewAudits: createAuditOnce(deps.config.ILDFLOW_CLAIM_LEASE_MINUTES * 60_000),
  };
  mount(r, deps, 'getViewer', getViewer(viewer));
  mount(r, deps, 'getSlice', getSlice(viewer));
  mount(r, deps, 'getSliceLabels', getSliceLabels(viewer));
  return r;
}
