/** Helpers shared by the review decisions. Pure: no clock, no I/O. */
import { createHash } from 'node:crypto';
import type { User } from '../auth/users.js';
import type { Case, Claim, Signer } from '../domain/case.js';
import { Forbidden } from '../errors.js';

/** The part of a user a decision needs; the API passes the authenticated user. */
export type ReviewUser = Pick<User, 'id' | 'name' | 'roles' | 'npi'>;

export const isAdmin = (u: ReviewUser): boolean => u.roles.includes('admin');

/** A lease is live strictly before its expiry instant. */
export function isLeaseLive(claim: Claim | undefined, now: Date): boolean {
  return claim !== undefined && now.getTime() < Date.parse(claim.expiresAt);
}

/** A signature names the physician by NPI (45 CFR 162.410): no NPI, no signature. */
export function signerOf(user: ReviewUser): Signer {
  if (!user.npi) throw new Forbidden(`user ${user.id} has no NPI and cannot sign`);
  return { id: user.id, name: user.name, npi: user.npi };
}

/** The case without its claim: a signed, released or cancelled case is held by nobody. */
export function withoutClaim(c: Case): Case {
  const { claim: _claim, ...rest } = c;
  return rest;
}

/**
 * JSON with object keys sorted, so the same result always hashes the same whatever the key order it was
 * stored with (the idea of RFC 8785 JCS; numbers are left to JSON.stringify, which is enough here because
 * the same stored document is hashed both times).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
