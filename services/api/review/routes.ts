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
  mount(r, deps.users, 'me', me);
  mount(r, deps.users, 'reviewQueue', reviewQueue(deps));
  mount(r, deps.users, 'claimCase', claimCase(deps));
  mount(r, deps.users, 'releaseCase', releaseCase(deps));
  mount(r, deps.users, 'submitReview', submitReview(deps));
  mount(r, deps.users, 'addAddendum', addAddendum(deps));
  return r;
}
