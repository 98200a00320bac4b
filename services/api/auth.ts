/**
 * Bearer-token authentication (RFC 6750) and role authorization from the route table. Two kinds of bearer
 * token: the users file's (machine clients: PACS, billing; hashed, constant-time) and, when
 * ILDFLOW_OIDC_ISSUER is set, JWT access tokens from the hospital's OpenID Provider (people; see
 * shared/auth/provider-tokens.ts and docs/security.md "Sign-in"). Both become the same `Principal` and
 * meet the same route table.
 * 401 with `WWW-Authenticate: Bearer` when no or a bad token is presented (§3, §3.1 `invalid_token`),
 * 429 with Retry-After when the same bad token keeps coming from one address (auth-throttle.ts),
 * 403 with `error="insufficient_scope"` when the user's roles do not include the route's,
 * 503 when a provider token cannot be checked because the provider is down (the token may well be good).
 */
import type { RequestHandler } from 'express';
import type { Principal } from '../../shared/auth/provider-claims.js';
import { looksLikeJwt, type ProviderTokens } from '../../shared/auth/provider-tokens.js';
import type { UserDirectory } from '../../shared/auth/users.js';
import { AppError, Forbidden, TooManyRequests, Unauthenticated } from '../../shared/errors.js';
import { authFailuresOf, failureKey } from './auth-throttle.js';
import { clientIp } from './context.js';
import { isAllowed, type RouteSpec } from './route-table.js';

const REALM = 'Bearer realm="ildflow"';

/** RFC 6750 §2.1: `Authorization: Bearer b64token`; the scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header ?? '');
  return m ? m[1]! : null;
}

/** What authentication needs: the users file, and the provider's token checker when one is configured. */
export type Credentials = Readonly<{ users: UserDirectory; providerTokens?: ProviderTokens }>;

export function authenticate(credentials: Credentials): RequestHandler {
  return (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) {
      res.setHeader('WWW-Authenticate', REALM);
      return next(new Unauthenticated('a bearer token is required'));
    }
    const accept = (principal: Principal) => {
      res.locals.user = principal;
      next();
    };
    const refuse = (err: AppError) => {
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
      next(err);
    };
    const user = credentials.users.authenticate(token);
    if (user) {
      const { tokenSha256: _hash, ...principal } = user;
      return accept(principal);
    }
    const provider = credentials.providerTokens;
    if (!provider || !looksLikeJwt(token)) return refuse(new Unauthenticated('the bearer token is not valid'));
    provider.verify(token).then(accept, (err: unknown) => {
      if (err instanceof Unauthenticated) refuse(err);
      else next(err); // ProviderUnavailable: not the token's fault, so not counted against it
    });
  };
}

export function authorize(spec: RouteSpec): RequestHandler {
  return (_req, res, next) => {
    const user = res.locals.user as Pick<Principal, 'roles'> | undefined;
    if (user && isAllowed(spec, user.roles)) return next();
    res.setHeader('WWW-Authenticate', `${REALM}, error="insufficient_scope"`);
    next(new Forbidden(`${spec.method.toUpperCase()} ${spec.path} needs one of the roles: ${(spec.roles as readonly string[]).join(', ')}`));
  };
}
