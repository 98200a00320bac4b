/**
 * Conditional GET for immutable representations (RFC 9110 §8.8.3 ETag, §13.1.2 If-None-Match). Slices of a
 * retrieved series never change, so their entity tag is derived from what identifies them — no hashing of
 * the body, and a 304 is answered before any file is read.
 */
import { createHash } from 'node:crypto';

/** A strong entity tag (RFC 9110 §8.8.3) naming the parts that identify a representation. */
export function strongEtag(...parts: readonly (string | number)[]): string {
  return `"${createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 32)}"`;
}

/**
 * If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`; `*` matches any current
 * representation.
 */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => opaque(t) === opaque(etag));
}
