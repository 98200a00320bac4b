import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { mount } from '../mount.js';
import { billingEvents } from './billing-events.js';

export function billingRoutes(deps: ApiDeps): Router {
  const r = Router();
  mount(r, deps, 'billingEvents', billingEvents(deps));
  return r;
}
