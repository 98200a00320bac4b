import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { mount } from '../mount.js';
import { healthz, metrics, readyz } from './health.js';

export function healthRoutes(deps: ApiDeps): Router {
  const r = Router();
  mount(r, deps, 'healthz', healthz);
  mount(r, deps, 'readyz', readyz(deps));
  mount(r, deps, 'metrics', metrics(deps));
  return r;
}
