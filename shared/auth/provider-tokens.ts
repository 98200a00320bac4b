/**
 * The API as an OAuth 2.0 resource server (RFC 6749 §7; docs/security.md "Sign-in"): a JWT access token
 * from the hospital's OpenID Provider is accepted when
 * - its JWS signature (RFC 7515) verifies with a key from the provider's JWKS, found by `kid`;
 * - its `alg` is RS256, ES256 or PS256 — never `none`, never an HMAC (RFC 8725 §3.1, §2.1: an HS256 token
 *   "signed" with the provider's public key as the secret is refused before any key is looked at);
 * - `iss` equals the issuer, `aud` contains the audience, `exp`/`nbf` hold with at most 60 s of clock
 *   skew (RFC 7519 §4.1; RFC 8725 §3.8, §3.9), and `sub` is present (RFC 9068 §2.2).
 * The JWKS location comes from the provider's discovery document (OpenID Connect Discovery 1.0 §4), whose
 * `issuer` must equal ours (§4.3). Verification is `jose`, a well-kept, dependency-free JOSE library:
 * signature and claim checks are where hand-written code goes wrong.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ProviderUnavailable, Unauthenticated } from '../errors.js';
import { isAllowedProviderUrl, principalFromClaims, type ClaimNames, type Principal } from './provider-claims.js';

/** Asymmetric algorithms only (RFC 8725 §3.1); RS256 is the one every provider must offer (OIDC Core §15.1). */
export const PROVIDER_ALGORITHMS = ['RS256', 'ES256', 'PS256'] as const;
/** The most clock skew accepted on `exp` and `nbf`. */
export const CLOCK_SKEW_SECONDS = 60;
/** An unknown `kid` (a rotated key) refetches the JWKS at most this often, so forged kids cannot flood the provider. */
export const JWKS_REFETCH_MS = 60_000;
/** How long a fetched JWKS is used without refetching: tokens keep verifying this long when the provider is down. */
export const JWKS_MAX_AGE_MS = 10 * 60_000;
/** A failed discovery is retried at most this often. */
const DISCOVERY_RETRY_MS = 10_000;
const FETCH_TIMEOUT_MS = 5_000;

export type ProviderSettings = Readonly<{
  issuer: string;
  audience: string;
  claims: ClaimNames;
  /** Tests shorten it; production keeps JWKS_MAX_AGE_MS. */
  jwksMaxAgeMs?: number;
}>;

export type ProviderTokens = Readonly<{
  issuer: string;
  /** The principal of a valid token; Unauthenticated for a bad one; ProviderUnavailable when the provider cannot be asked. */
  verify(token: string): Promise<Principal>;
}>;

/** A compact JWS (RFC 7515 §7.1): three base64url parts. Anything else is not a provider token. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

export function createProviderTokens(settings: ProviderSettings): ProviderTokens {
  const issuer = settings.issuer;
  let keys: JWTVerifyGetKey | null = null;
  let discovering: Promise<JWTVerifyGetKey> | null = null;
  let lastFailure = 0;

  async function discover(): Promise<JWTVerifyGetKey> {
    // OIDC Discovery §4: the issuer with any trailing slash removed, then /.well-known/openid-configuration.
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let doc: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
      if (!res.ok) throw new Error(`answered ${res.status}`);
      doc = (await res.json()) as typeof doc;
    } catch (err) {
      throw new ProviderUnavailable('the identity provider cannot be reached to check this token; try again shortly', { cause: err });
    }
    if (doc.issuer !== issuer) throw new ProviderUnavailable('the identity provider names another issuer than ILDFLOW_OIDC_ISSUER');
    if (typeof doc.jwks_uri !== 'string' || !isAllowedProviderUrl(doc.jwks_uri))
      throw new ProviderUnavailable('the identity provider publishes no https jwks_uri');
    return createRemoteJWKSet(new URL(doc.jwks_uri), {
      cooldownDuration: JWKS_REFETCH_MS,
      cacheMaxAge: settings.jwksMaxAgeMs ?? JWKS_MAX_AGE_MS,
      timeoutDuration: FETCH_TIMEOUT_MS,
    });
  }

  async function keySet(): Promise<JWTVerifyGetKey> {
    if (keys) return keys;
    if (!discovering) {
      if (Date.now() - lastFailure < DISCOVERY_RETRY_MS)
        throw new ProviderUnavailable('the identity provider cannot be reached to check this token; try again shortly');
      discovering = discover()
        .then((k) => (keys = k))
        .catch((err: unknown) => {
          lastFailure = Date.now();
          throw err;
        })
        .finally(() => (discovering = null));
    }
    return discovering;
  }

  async function verify(token: string): Promise<Principal> {
    const getKey = await keySet();
    const verified = await jwtVerify(token, getKey, {
      algorithms: [...PROVIDER_ALGORITHMS],
      issuer,
      audience: settings.audience,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'sub'],
    }).catch((err: unknown) => {
      throw classify(err);
    });
    return principalFromClaims(verified.payload, issuer, settings.claims);
  }

  return { issuer, verify };
}

/**
 * A token's own fault is a 401 whose detail says nothing about keys or algorithms (what was wrong helps a
 * forger, not a physician); only expiry is named, since the page then signs in again. A JWKS that cannot be
 * fetched (network error, timeout, non-200, not a key set) is the provider's fault: 503.
 */
function classify(err: unknown): Error {
  if (err instanceof errors.JWTExpired) return new Unauthenticated('the access token has expired', { cause: err });
  const providerFault =
    err instanceof errors.JWKSTimeout ||
    err instanceof errors.JWKSInvalid ||
    !(err instanceof errors.JOSEError) ||
    err.code === errors.JOSEError.code; // remote.js: "Expected 200 OK", "Failed to parse the JSON Web Key Set"
  if (providerFault)
    return new ProviderUnavailable('the identity provider cannot be reached to check this token; try again shortly', { cause: err });
  return new Unauthenticated('the bearer token is not valid', { cause: err });
}
