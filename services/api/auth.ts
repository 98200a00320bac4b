/**
 * Bearer-token authentication (RFC 6750) and role authorization from the route table.
 * 401 with `WWW-Authenticate: Bearer` when no or a bad token is presented (§3, §3.1 `invalid_token`),
 * 429 with Retry-After when the same bad token keeps coming from one address (auth-throttle.ts),
 * 403 with `error="insufficient_scope"` when the user's roles do not include the route's.
 */
import type { RequestHandler } from 'express';
import type { UserDirectory } from '../../shared/auth/users.js';
import { Forbidden, TooManyRequests, Unauthenticated } from '../../shared/errors.js';
import { authFailuresOf, failureKey } from './auth-throttle.js';
import { clientIp } from './context.js';
import { isAllowed, type RouteSpec } from './route-table.js';

const REALM = 'Bearer realm="ildflow"';

/** RFC 6750 §2.1: `Authorization: Bearer b64token`; the scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header ?? '');
  return m ? m[1]! : null;
}

export function authenticate(users: UserDirectory): RequestHandler {
  return (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) {
      res.setHeader('WWW-Authenticate', REALM);
      return next(new Unauthenticated('a bearer token is required'));
    }
    const user = users.authenticate(token);
    if (!user) {
      // Checked only once the token is known to be bad, so a valid token is never throttled.
      const failures = authFailuresOf(res);
      const key = failureKey(clientIp(req) ?? 'unknown', token);
      const wait = failures?.retryAfterSeconds(key);
      if (wait) {
        res.setHeader('Retry-After', String(wait)); // RFC 9110 §10.2.3, RFC 6585 §4
        return next(new TooManyRequests('this bearer token failed too often from this address; try again later'));
      }
      failures?.record(key);
      res.setHeader('WWW-Authenticate', `${REALM}, error="invalid_token"`);
      return next(new Unauthenticated('the bearer token is not valid'));
    }
    res.locals.user = user;
    next();
  };
}

export function authorize(spec: RouteSpec): RequestHandler {
  return (_req, res, next) => {
    const user = res.locals.user as { roles: readonly ('orderer' | 'pacs' | 'radiologist' | 'billing' | 'admin')[] } | undefined;
    if (user && isAllowed(spec, user.roles)) return next();
    res.setHeader('WWW-Authenticate', `${REALM}, error="insufficient_scope"`);
    next(new Forbidden(`${spec.method.toUpperCase()} ${spec.path} needs one of the roles: ${(spec.roles as readonly string[]).join(', ')}`));
  };
}
