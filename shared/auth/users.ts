/**
 * Users and bearer tokens (docs/design.md §5). Tokens are stored only as SHA-256 hashes; a presented token is
 * hashed and compared with every user's hash in constant time, so neither the comparison nor the position
 * of a match leaks through timing.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isValidNpi } from '../codes/npi.js';
import { ConfigInvalid } from '../errors.js';

export const ROLES = ['orderer', 'pacs', 'radiologist', 'billing', 'admin'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** A user id: letters, digits, dot, dash, underscore. Worker actors (`worker:retrieve`) never match it. */
export const USER_ID = /^[A-Za-z0-9._-]{1,64}$/;

export const UserRecord = z
  .object({
    id: z.string().regex(USER_ID),
    name: z.string().min(1).max(200),
    roles: z.array(Role).min(1),
    npi: z.string().optional(),
    tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the token'),
  })
  .refine((u) => !u.roles.includes('radiologist') || (u.npi !== undefined && isValidNpi(u.npi)), {
    message: 'a radiologist must carry a valid NPI (10 digits, Luhn check with prefix 80840)',
    path: ['npi'],
  });
export type User = z.infer<typeof UserRecord>;

export const UsersFile = z.array(UserRecord).superRefine((users, ctx) => {
  const seen = new Set<string>();
  users.forEach((u, i) => {
    if (seen.has(u.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate user id ${u.id}` });
    seen.add(u.id);
  });
});

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random bearer token: 32 bytes, base64url (RFC 4648 §5). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function parseUsers(json: unknown, source = 'users file'): User[] {
  const r = UsersFile.safeParse(json);
  if (!r.success) throw new ConfigInvalid(r.error.issues.map((i) => `${source}: [${i.path.join('.')}] ${i.message}`));
  return r.data;
}

export function loadUsersFile(path: string): User[] {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigInvalid([`ILDFLOW_USERS_FILE: cannot read ${path}: ${(e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new ConfigInvalid([`ILDFLOW_USERS_FILE: ${path} is not JSON: ${(e as Error).message}`]);
  }
  return parseUsers(json, path);
}

export type UserDirectory = Readonly<{ authenticate(token: string): User | null; byId(id: string): User | undefined }>;

export function createUserDirectory(users: readonly User[]): UserDirectory {
  const hashes = users.map((u) => Buffer.from(u.tokenSha256, 'hex'));
  return {
    authenticate(token: string): User | null {
      const presented = createHash('sha256').update(token, 'utf8').digest();
      let found: User | null = null;
      // No early exit: every hash is compared, whatever matches.
      for (let i = 0; i < hashes.length; i++) if (timingSafeEqual(presented, hashes[i]!)) found = users[i]!;
      return found;
    },
    byId: (id) => users.find((u) => u.id === id),
  };
}
