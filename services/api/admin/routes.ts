import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { mount } from '../mount.js';
import { listDeadLetters, replayDeadLetter } from './dead-letters.js';
import { reconcileCase } from './reconcile-case.js';
import { retryCase } from './retry-case.js';

export function adminRoutes(deps: ApiDeps): Router {
  const r = Router();
  mount(r, deps, 'retryCase', retryCase(deps));
  mount(r, deps, 'reconcileCase', reconcileCase(deps));
  mount(r, deps, 'deadLetters', listDeadLetters(deps));
  mount(r, deps, 'replayDeadLetter', replayDeadLetter(deps));
  return r;
}
