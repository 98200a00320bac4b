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
  mount(r, deps.users, 'createCase', createCase(deps));
  mount(r, deps.users, 'listCases', listCases(deps));
  mount(r, deps.users, 'getCase', getCase(deps));
  mount(r, deps.users, 'cancelCase', cancelCase(deps));
  mount(r, deps.users, 'listArtifacts', listArtifacts(deps));
  mount(r, deps.users, 'getArtifact', getArtifact(deps));
  return r;
}
