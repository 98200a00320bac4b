/**
 * The API application (docs/design.md §5). `createApp(deps)` builds it from injected dependencies and does no
 * I/O itself; services/cli/runtime.ts (the composition root) constructs the clients and listens.
 */
import express, { type Express } from 'express';
import { NotFound } from '../../shared/errors.js';
import { createDashboard } from './admin/dashboard.js';
import { adminRoutes } from './admin/routes.js';
import { authFailureThrottle } from './auth-throttle.js';
import { billingRoutes } from './billing/routes.js';
import { casesRoutes } from './cases/routes.js';
import type { ApiDeps } from './deps.js';
import { healthRoutes } from './health/routes.js';
import { refuseMalformedPath } from './malformed-uri.js';
import { httpMetrics } from './metrics.js';
import { mount } from './mount.js';
import { openApiDocument } from './openapi.js';
import { problemHandler } from './problem.js';
import { reviewRoutes } from './review/routes.js';
import { reviewUiRoutes } from '../review-ui/serve.js';
import { securityHeaders } from './security.js';
import { traceRequests } from './trace.js';
import { triggersRoutes } from './triggers/routes.js';

export type { ApiDeps } from './deps.js';

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple'); // no nested objects from a query string: every parameter is a plain string
  // X-Forwarded-For / -Proto (RFC 7239's de-facto predecessors) are believed only from the configured proxies:
  // req.ip (throttle, audit) and req.secure (the dashboard cookie) then describe the client, not the proxy.
  app.set('trust proxy', deps.config.ILDFLOW_TRUST_PROXY ?? false);
  app.use(traceRequests, securityHeaders, httpMetrics(deps.metrics, deps.pipeline), refuseMalformedPath);
  app.use(authFailureThrottle(deps.config.ILDFLOW_AUTH_FAILURES_PER_MINUTE)); // consulted by `authenticate` for bad tokens only
  // Size limit before parsing (docs/design.md §6); JSON only, so a form or text body is a 400 from the schema.
  app.use(express.json({ limit: deps.config.ILDFLOW_BODY_LIMIT, strict: true }));

  app.use(healthRoutes(deps), casesRoutes(deps), reviewRoutes(deps), adminRoutes(deps), billingRoutes(deps), triggersRoutes(deps));
  app.use(reviewUiRoutes(deps, deps.reviewSignIn)); // the review web page at /review (docs/design.md §1)
  // The admins' queue dashboard (bull-board) at /admin/queues, entered with a session cookie (admin/dashboard.ts).
  if (deps.pipeline.queues) {
    const dashboard = createDashboard({
      users: deps.users,
      queues: Object.values(deps.pipeline.queues),
      clock: deps.clock,
      secureCookie: deps.config.ILDFLOW_COOKIE_SECURE ?? 'auto',
    });
    const session = express.Router();
    mount(session, deps, 'dashboardSession', dashboard.openSession);
    app.use(session, dashboard.router);
  }
  const spec = JSON.stringify(openApiDocument());
  const docs = express.Router();
  mount(docs, deps, 'openapi', (_req, res) => void res.type('application/json').send(spec));
  app.use(docs);

  app.use((req, _res, next) => next(new NotFound(`no route ${req.method} ${req.path}`)));
  app.use(problemHandler(deps.logger));
  return app;
}
