import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { mount } from '../mount.js';
import { orthancStableStudy, studyAvailable } from './study-available.js';

export function triggersRoutes(deps: ApiDeps): Router {
  const r = Router();
  mount(r, deps, 'studyAvailable', studyAvailable(deps));
  mount(r, deps, 'orthancStableStudy', orthancStableStudy(deps));
  return r;
}
