/**
 * The user a verified access token from the hospital's OpenID Provider names (docs/security.md "Sign-in").
 * Pure: the claims of a token whose signature, issuer, audience and lifetime were already checked
 * (provider-tokens.ts) become the same `Principal` a users-file token gives, so both kinds of credential go
 * through the one authorization table.
 */
import { createHash } from 'node:crypto';
import { isValidNpi } from '../codes/npi.js';
import { Unauthenticated } from '../errors.js';
import { ROLES, type Role, type User } from './users.js';

/** Who is calling: a users-file user, or a provider's user with the issuer and subject it came from. */
export type Principal = Omit<User, 'tokenSha256'> & { readonly provider?: Readonly<{ issuer: string; subject: string }> };

export type ClaimNames = Readonly<{ roles: string; npi: string }>;

/**
 * ildflow's id for a provider's user. `iss` + `sub` is the only stable, unique identifier of an end user
 * (OpenID Connect Core 1.0 §5.7), so the id is derived from both — never from `sub` alone, which could equal
 * a users-file id and inherit its orders and claims. It matches the users file's id syntax, so ownership,
 * claims and the timeline treat it like any other user id.
 */
export function providerUserId(issuer: string, subject: string): string {
  return `oidc-${createHash('sha256').update(`${issuer}\n${subject}`, 'utf8').digest('base64url').slice(0, 22)}`;
}

/**
 * ildflow's roles from the roles claim: an array of strings, or one space-separated string (as `scope` is,
 * RFC 6749 §3.3). Values that are not ildflow roles (the provider's other groups) are ignored.
 */
export function rolesFrom(value: unknown): Role[] {
  const values = Array.isArray(value) ? value : typeof value === 'string' ? value.split(' ') : [];
  return ROLES.filter((r) => values.includes(r));
}

/** The principal of a verified token's claims; `sub` is required (RFC 9068 §2.2), `iss` was checked equal to the issuer. */
export function principalFromClaims(claims: Readonly<Record<string, unknown>>, issuer: string, names: ClaimNames): Principal {
  const subject = claims.sub;
  if (typeof subject !== 'string' || subject === '') throw new Unauthenticated('the bearer token is not valid');
  const npiClaim = claims[names.npi];
  // A radiologist without a valid NPI keeps the role (reads the queue and cases) but cannot sign
  // (shared/review/actor.ts signerOf): a signature names the physician by NPI.
  const npi = typeof npiClaim === 'string' && isValidNpi(npiClaim) ? npiClaim : undefined;
  const name = [claims.name, claims.preferred_username].find((n): n is string => typeof n === 'string' && n.trim() !== '');
  return {
    id: providerUserId(issuer, subject),
    name: (name ?? subject).slice(0, 200),
    roles: rolesFrom(claims[names.roles]),
    ...(npi ? { npi } : {}),
    provider: { issuer, subject },
  };
}

/**
 * The provider's URLs (issuer, jwks_uri) must be https: a token's keys fetched over plain HTTP could be
 * swapped on the way (RFC 8725 §3.1 trusts only keys from the issuer). Plain http is allowed on a loopback
 * address, where nothing is on the wire: tests and single-host installs.
 */
export function isAllowedProviderUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return url.protocol === 'http:' && (host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host));
}
