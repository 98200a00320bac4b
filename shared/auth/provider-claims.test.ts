import { describe, expect, it } from 'vitest';
import { Unauthenticated } from '../errors.js';
import { USER_ID } from './users.js';
import { isAllowedProviderUrl, principalFromClaims, providerUserId, rolesFrom } from './provider-claims.js';

const ISS = 'https://idp.hospital.example/realms/staff';
const names = { roles: 'roles', npi: 'npi' };

describe('provider claims', () => {
  it('maps the roles claim onto ildflow roles and ignores the provider’s other groups', () => {
    expect(rolesFrom(['radiologist', 'Domain Users', 'admin', 'superuser'])).toEqual(['radiologist', 'admin']);
    expect(rolesFrom('billing orderer vpn')).toEqual(['orderer', 'billing']); // in ildflow's order
    expect(rolesFrom(undefined)).toEqual([]);
    expect(rolesFrom({ radiologist: true })).toEqual([]);
  });

  it('gives a radiologist with a valid NPI the NPI, and one without (or with a bad check digit) none', () => {
    const p = principalFromClaims({ sub: 's1', name: 'Ada Reyes, MD', roles: ['radiologist'], npi: '1234567893' }, ISS, names);
    expect(p).toMatchObject({ name: 'Ada Reyes, MD', roles: ['radiologist'], npi: '1234567893', provider: { issuer: ISS, subject: 's1' } });
    expect(principalFromClaims({ sub: 's1', roles: ['radiologist'], npi: '1234567890' }, ISS, names).npi).toBeUndefined();
    expect(principalFromClaims({ sub: 's1', roles: ['radiologist'] }, ISS, names).npi).toBeUndefined();
  });

  it('reads the configured claim names', () => {
    const p = principalFromClaims({ sub: 's1', groups: ['admin'], provider_npi: '1234567893' }, ISS, { roles: 'groups', npi: 'provider_npi' });
    expect(p.roles).toEqual(['admin']);
    expect(p.npi).toBe('1234567893');
  });

  it('derives the user id from issuer and subject, in the users file’s id syntax, never the bare subject', () => {
    const id = providerUserId(ISS, 'u-rad-1');
    expect(id).toMatch(USER_ID);
    expect(id).not.toBe('u-rad-1');
    expect(providerUserId(ISS, 'u-rad-1')).toBe(id);
    expect(providerUserId('https://other.example', 'u-rad-1')).not.toBe(id);
  });

  it('names the user by name, else preferred_username, else subject', () => {
    expect(principalFromClaims({ sub: 's1', preferred_username: 'areyes' }, ISS, names).name).toBe('areyes');
    expect(principalFromClaims({ sub: 's1' }, ISS, names).name).toBe('s1');
  });

  it('refuses claims without a subject', () => {
    expect(() => principalFromClaims({ roles: ['admin'] }, ISS, names)).toThrow(Unauthenticated);
    expect(() => principalFromClaims({ sub: '' }, ISS, names)).toThrow(Unauthenticated);
  });

  it.each([
    ['https://idp.example', true],
    ['http://127.0.0.1:9000', true],
    ['http://localhost:9000/realms/x', true],
    ['http://[::1]:9000', true],
    ['http://idp.example', false],
    ['http://10.0.0.5', false],
    ['ftp://idp.example', false],
    ['not a url', false],
  ])('allows %s as a provider URL: %s', (url, ok) => {
    expect(isAllowedProviderUrl(url)).toBe(ok);
  });
});
