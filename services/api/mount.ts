/** Mounts a handler at its route-table entry, behind authentication (either kind of token) and the route's roles. */
import type { Request, RequestHandler, Response, Router } from 'express';
import type { CaseStore } from '../../shared/store/case-store.js';
import { authenticate, authorize, type Credentials } from './auth.js';
import { clientIp, userOf } from './context.js';
import { ROUTES, expressPath, type RouteId, type RouteSpec } from './route-table.js';

export function mount(router: Router, credentials: Credentials, id: RouteId, ...handlers: RequestHandler[]): void {
  const spec: RouteSpec = ROUTES[id];
  const tag: RequestHandler = (_req, res, next) => {
    res.locals.route = spec.path; // the metrics label and the log field: a template, never an id
    next();
  };
  const guard = spec.roles === 'public' ? [] : [authenticate(credentials), authorize(spec)];
  router[spec.method](expressPath(spec.path), tag, ...guard, ...handlers);
}

/**
 * Records a PHI read: who, what, which case, from where (docs/design.md §6; HIPAA 45 CFR 164.312(b)). A read of
 * many (a list, the queue, the billing feed) names every case it disclosed, by id only, so an accounting
 * of disclosures can say whose records a list showed without the audit trail holding PHI itself.
 */
export function auditRead(store: Pick<CaseStore, 'audit'>, req: Request, res: Response, action: string, cases?: string | readonly string[]): Promise<void> {
  const which = typeof cases === 'string' ? { caseId: cases } : cases ? { caseIds: [...new Set(cases)] } : {};
  const user = userOf(res);
  // A provider's user is recorded by issuer and subject too: the identity the hospital's directory knows.
  const provider = user.provider ? { issuer: user.provider.issuer, subject: user.provider.subject } : {};
  return store.audit({ userId: user.id, ...provider, action, ...which, ip: clientIp(req) });
}
