import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { mount } from '../mount.js';
import { getArtifact, listArtifacts } from './artifacts.js';
import { cancelCase } from './cancel-case.js';
import { createCase } from './create-case.js';
import { getCase } from './get-case.js';
import { listCases } from './list-cases.js';

export function casesRoutes(deps: ApiDeps): Router {
  const r = Router();
  mount(r, deps, 'createCase', createCase(deps));
  mount(r, deps, 'listCases', listCases(deps));
  mount(r, deps, 'getCase', getCase(deps));
  mount(r, deps, 'cancelCase', cancelCase(deps));
  mount(r, deps, 'listArtifacts', listArtifacts(deps));
  mount(r, deps, 'getArtifact', getArtifact(deps));
  return r;
}
