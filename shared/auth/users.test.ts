import { describe, expect, it } from 'vitest';
import { createUserDirectory, hashToken, parseUsers } from './users.js';
import { ConfigInvalid } from '../errors.js';

const rad = { id: 'u-rad-1', name: 'Ada Reyes, MD', roles: ['radiologist'], npi: '1234567893', tokenSha256: hashToken('t-rad') };

describe('users', () => {
  it('authenticates a token by its hash and nothing else', () => {
    const dir = createUserDirectory(parseUsers([rad, { id: 'u-b', name: 'Billing', roles: ['billing'], tokenSha256: hashToken('t-b') }]));
    expect(dir.authenticate('t-rad')?.id).toBe('u-rad-1');
    expect(dir.authenticate('t-b')?.id).toBe('u-b');
    expect(dir.authenticate('t-rad ')).toBeNull();
    expect(dir.authenticate(hashToken('t-rad'))).toBeNull();
  });

  it('refuses a radiologist without a valid NPI', () => {
    expect(() => parseUsers([{ ...rad, npi: '1234567890' }])).toThrow(ConfigInvalid);
    expect(() => parseUsers([{ ...rad, npi: undefined }])).toThrow(/NPI/);
  });

  it('refuses duplicate ids, unknown roles and plain-text tokens', () => {
    expect(() => parseUsers([rad, rad])).toThrow(/duplicate/);
    expect(() => parseUsers([{ ...rad, roles: ['god'] }])).toThrow(ConfigInvalid);
    expect(() => parseUsers([{ ...rad, tokenSha256: 'secret' }])).toThrow(/SHA-256/);
  });
});
