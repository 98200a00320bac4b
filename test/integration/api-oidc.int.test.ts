/**
 * Sign-in at the hospital's OpenID Provider (docs/security.md "Sign-in (OpenID Connect)"): a real
 * oidc-provider on loopback issues JWT access tokens through its own login and consent forms; the real API
 * accepts them beside users-file tokens, through the one route table, and refuses every forgery with a 401
 * that says nothing about keys. Tokens with wrong claims are minted with the provider's own signing key, so
 * only the claim under test is wrong.
 */
import { exportSPKI, generateKeyPair, importJWK, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderTokens } from '../../shared/auth/provider-tokens.js';
import { providerUserId } from '../../shared/auth/provider-claims.js';
import { startApi, type Harness } from '../helpers/api-harness.js';
import { AUDIENCE, KID, startProvider, type TestAccount, type TestProvider } from '../helpers/oidc-provider.js';

const ACCOUNTS: Record<string, TestAccount> = {
  ada: { name: 'Ada Reyes, MD', roles: ['radiologist', 'Domain Users'], npi: '1234567893' },
  noor: { name: 'Noor Patel, MD', roles: ['radiologist'] },
  lee: { name: 'Lee Park, MD', roles: ['orderer'] },
};
const CLAIMS = { roles: 'roles', npi: 'npi' };
const now = () => Math.floor(Date.now() / 1000);
const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function mint(op: TestProvider, o: { claims?: Record<string, unknown>; key?: CryptoKey | Uint8Array; alg?: string; kid?: string } = {}): Promise<string> {
  const claims = { iss: op.issuer, aud: AUDIENCE, sub: 'ada', iat: now(), exp: now() + 300, name: 'Ada Reyes, MD', roles: ['radiologist'], npi: '1234567893', ...o.claims };
  return new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'RS256', kid: o.kid ?? KID, typ: 'at+jwt' }).sign(o.key ?? op.privateKey);
}

function expectRefused(res: Awaited<ReturnType<Harness['call']>>) {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  expect(res.json.type).toMatch(/unauthenticated$/);
  // Nothing about keys, algorithms or which check failed.
  expect(res.text).not.toMatch(/key|kid|alg|signature|jwk|hs256|rs256|none|issuer|audience|iss\b|aud\b|nbf/i);
}

describe('sign-in with the OpenID Provider', () => {
  let op: TestProvider;
  let h: Harness;
  beforeAll(async () => {
    op = await startProvider(ACCOUNTS);
    h = await startApi({ providerTokens: createProviderTokens({ issuer: op.issuer, audience: AUDIENCE, claims: CLAIMS }) });
  });
  afterAll(async () => {
    await h?.close();
    await op?.stop();
  });

  /** A physician's path through a case: read the queue, claim, accept and sign. */
  async function queueClaimAndSign(token: string) {
    const c = await h.seedCase('awaiting_review');
    expect((await h.call('GET', '/v1/review/queue', { token })).status).toBe(200);
    expect((await h.call('POST', `/v1/cases/${c.id}/claim`, { token })).status).toBe(200);
    return { c, signed: await h.call('POST', `/v1/cases/${c.id}/review`, { token, body: { decision: 'accept', attestation: true } }) };
  }

  it('takes a physician signed in through the provider’s forms, with the name, roles and NPI of the token', async () => {
    const token = await op.signIn('ada');
    const me = await h.call('GET', '/v1/me', { token });
    expect(me.status).toBe(200);
    expect(me.json).toEqual({ id: providerUserId(op.issuer, 'ada'), name: 'Ada Reyes, MD', roles: ['radiologist'], npi: '1234567893' });
  });

  it('lets that physician claim and sign a case as the signer, and audits the reads with the provider’s issuer and subject', async () => {
    const token = await op.signIn('ada');
    const { c, signed } = await queueClaimAndSign(token);
    expect(signed.status).toBe(200);
    expect(signed.json.status).toBe('signed');
    expect(signed.json.review.signer).toEqual({ id: providerUserId(op.issuer, 'ada'), name: 'Ada Reyes, MD', npi: '1234567893' });
    expect((await h.call('GET', `/v1/cases/${c.id}`, { token })).status).toBe(200);
    const trail = await h.store.auditTrail();
    const read = trail.find((e) => e.caseId === c.id && e.userId === providerUserId(op.issuer, 'ada'));
    expect(read).toMatchObject({ issuer: op.issuer, subject: 'ada' });
    expect(JSON.stringify(trail)).not.toContain(token);
  });

  it('lets a radiologist without an NPI read the queue but not sign', async () => {
    const { c, signed } = await queueClaimAndSign(await op.signIn('noor'));
    expect(signed.status).toBe(403);
    expect((await h.store.get(c.id)).status).toBe('in_review');
  });

  it('gives a provider’s orderer 403 on the review queue, while the billing system’s users-file token still reads the feed', async () => {
    const token = await op.signIn('lee');
    const queue = await h.call('GET', '/v1/review/queue', { token });
    expect(queue.status).toBe(403);
    expect(queue.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect((await h.call('GET', '/v1/cases', { token })).status).toBe(200);
    expect((await h.call('GET', '/v1/billing/events', { as: 'billing' })).status).toBe(200);
  });

  it('accepts a token minted with the provider’s own key (the control for the forgeries below)', async () => {
    expect((await h.call('GET', '/v1/me', { token: await mint(op) })).status).toBe(200);
  });

  it.each<[string, (op: TestProvider) => Promise<string>]>([
    ['alg none', async (p) => `${b64({ alg: 'none', typ: 'at+jwt', kid: KID })}.${b64({ iss: p.issuer, aud: AUDIENCE, sub: 'ada', exp: now() + 300, roles: ['radiologist'] })}.`],
    ['HS256 keyed with the provider’s public key', async (p) => mint(p, { alg: 'HS256', key: new TextEncoder().encode(await exportSPKI((await importJWK(p.publicJwk, 'RS256')) as CryptoKey)) })],
    ['another key under the provider’s kid', async (p) => mint(p, { key: (await generateKeyPair('RS256')).privateKey })],
    ['an unknown kid', async (p) => mint(p, { key: (await generateKeyPair('RS256')).privateKey, kid: 'rotated-2' })],
    ['a wrong issuer', async (p) => mint(p, { claims: { iss: 'http://127.0.0.1:1' } })],
    ['a wrong audience', async (p) => mint(p, { claims: { aud: 'another-api' } })],
    ['an expired token', async (p) => mint(p, { claims: { iat: now() - 900, exp: now() - 120 } })],
    ['a token not yet valid', async (p) => mint(p, { claims: { nbf: now() + 120 } })],
  ])('refuses %s with 401 and says nothing about the key', async (_name, forge) => {
    const res = await h.call('GET', '/v1/review/queue', { token: await forge(op) });
    expectRefused(res);
  });

  it('refetches the key set for unknown kids at most once a minute', async () => {
    await h.call('GET', '/v1/me', { token: await mint(op) }); // the key set is fetched (or already cached)
    const before = op.jwksFetches();
    const stranger = (await generateKeyPair('RS256')).privateKey;
    for (let i = 0; i < 5; i++) expectRefused(await h.call('GET', '/v1/me', { token: await mint(op, { key: stranger, kid: `forged-${i}` }) }));
    expect(op.jwksFetches() - before).toBeLessThanOrEqual(1);
  });
});

describe('the OpenID Provider down', () => {
  let op: TestProvider;
  let h: Harness;
  beforeAll(async () => {
    op = await startProvider(ACCOUNTS);
    h = await startApi({ providerTokens: createProviderTokens({ issuer: op.issuer, audience: AUDIENCE, claims: CLAIMS, jwksMaxAgeMs: 3000 }) });
  });
  afterAll(async () => {
    await h?.close();
    await op?.stop();
  });

  it('keeps users-file tokens and validated provider tokens working until the key set is stale; then says the provider cannot be reached', async () => {
    const token = await op.signIn('ada');
    expect((await h.call('GET', '/v1/review/queue', { token })).status).toBe(200);
    await op.stop();
    await expect(op.signIn('ada')).rejects.toThrow(); // new sign-ins fail at the provider itself

    expect((await h.call('GET', '/v1/billing/events', { as: 'billing' })).status).toBe(200);
    expect((await h.call('GET', '/v1/review/queue', { token })).status).toBe(200); // its key is cached

    // A token whose key is not cached cannot be checked: 503, not a 401 (the token may be good).
    const rotated = await mint(op, { key: (await generateKeyPair('RS256')).privateKey, kid: 'rotated-after-outage' });
    await new Promise((r) => setTimeout(r, 3100)); // past the key set's age (and the unknown-kid cooldown for this test's cache)
    for (const t of [token, rotated]) {
      const res = await h.call('GET', '/v1/review/queue', { token: t });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.json.detail).toBe('the identity provider cannot be reached to check this token; try again shortly');
    }
    expect((await h.call('GET', '/v1/billing/events', { as: 'billing' })).status).toBe(200);
  });

  it('starts and serves users-file tokens when the provider is down from the start', async () => {
    await op.stop();
    const alone = await startApi({ providerTokens: createProviderTokens({ issuer: op.issuer, audience: AUDIENCE, claims: CLAIMS }) });
    try {
      expect((await alone.call('GET', '/v1/billing/events', { as: 'billing' })).status).toBe(200);
      const res = await alone.call('GET', '/v1/me', { token: await mint(op) });
      expect(res.status).toBe(503);
      expect(res.json.type).toMatch(/identity-provider-unavailable$/);
    } finally {
      await alone.close();
    }
  });
});
