import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { mount } from '../mount.js';
import { addAddendum } from './add-addendum.js';
import { claimCase, releaseCase } from './claim-case.js';
import { me } from './me.js';
import { reviewQueue } from './review-queue.js';
import { submitReview } from './submit-review.js';

export function reviewRoutes(deps: ApiDeps): Router {
  const r = Router();
  mount(r, deps, 'me', me);
  mount(r, deps, 'reviewQueue', reviewQueue(deps));
  mount(r, deps, 'claimCase', claimCase(deps));
  mount(r, deps, 'releaseCase', releaseCase(deps));
  mount(r, deps, 'submitReview', submitReview(deps));
  mount(r, deps, 'addAddendum', addAddendum(deps));
  return r;
}
