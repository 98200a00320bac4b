/**
 * `ildflow users add`: creates a user with a new random token. The token is printed once; the users file
 * keeps only its SHA-256 (docs/design.md §5).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hashToken, newToken, parseUsers, Role, type User } from '../../shared/auth/users.js';
import { options } from './main.js';

export async function usersCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'add') throw new Error('usage: ildflow users add --id ID --name NAME --roles R[,R] [--npi NPI] [--file users.json]');
  const { values } = options(rest, {
    id: { type: 'string' },
    name: { type: 'string' },
    roles: { type: 'string' },
    npi: { type: 'string' },
    file: { type: 'string', default: 'users.json' },
  });
  const file = values.file as string;
  const existing: User[] = existsSync(file) ? parseUsers(JSON.parse(readFileSync(file, 'utf8')), file) : [];
  const token = newToken();
  const user = {
    id: values.id,
    name: values.name,
    roles: String(values.roles ?? '')
      .split(',')
      .filter(Boolean)
      .map((r) => Role.parse(r.trim())),
    ...(values.npi ? { npi: values.npi } : {}),
    tokenSha256: hashToken(token),
  };
  // Validates the new user with the same rules as start-up (NPI for radiologists, unique ids).
  const all = parseUsers([...existing, user], file);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  console.log(`user ${user.id} added to ${file}\ntoken (shown once, keep it secret): ${token}`);
  return 0;
}
