/**
 * A real OpenID Provider for the tests: the npm `oidc-provider` (an OpenID-certified implementation) on a
 * loopback port, with test accounts whose access tokens carry roles, NPI and name, issued as JWTs for the
 * `ildflow` audience through resource indicators (RFC 8707). Its signing key is generated here, so tests can
 * also mint tokens with the provider's own key (wrong iss, aud, exp, nbf) and check that only the claims
 * make them fail. `signIn` walks the authorization code flow with PKCE (RFC 7636) over HTTP through the
 * provider's own login and consent forms, as a browser would.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

export type TestAccount = Readonly<{ name: string; roles: readonly string[]; npi?: string }>;

export const CLIENT_ID = 'ildflow-review';
export const AUDIENCE = 'ildflow';
/** The resource indicator the page asks for (RFC 8707 §2: an absolute URI); its tokens carry `aud: ildflow`. */
export const RESOURCE = 'urn:ildflow:api';
export const KID = 'test-key-1';

export type TestProvider = Awaited<ReturnType<typeof startProvider>>;

export async function startProvider(accounts: Readonly<Record<string, TestAccount>>, o: { redirectUri?: string; port?: number } = {}) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid: KID, alg: 'RS256', use: 'sig' };
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  const redirectUri = o.redirectUri ?? 'http://127.0.0.1:1/callback';

  // Listen first: the issuer names the port.
  const { createServer } = await import('node:http');
  let handler: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | null = null;
  let jwksFetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/jwks')) jwksFetches++;
    handler!(req, res);
  });
  server.listen(o.port ?? 0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    jwks: { keys: [privateJwk] },
    clients: [{ client_id: CLIENT_ID, token_endpoint_auth_method: 'none', redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    pkce: { required: () => true },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 300, IdToken: 300 },
    async findAccount(_ctx, id) {
      const a = accounts[id];
      return a ? { accountId: id, claims: () => ({ sub: id, name: a.name }) } : undefined;
    },
    async extraTokenClaims(_ctx, token) {
      const a = 'accountId' in token && token.accountId ? accounts[token.accountId] : undefined;
      return a ? { name: a.name, roles: [...a.roles], ...(a.npi ? { npi: a.npi } : {}) } : undefined;
    },
    features: {
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'openid', audience: AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 300 }),
      },
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider', err));
  handler = provider.callback();

  /** The authorization code flow with PKCE (S256) for `login`, through the provider's forms; the access token. */
  async function signIn(login: string): Promise<string> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const jar = new Map<string, string>();
    const send = async (url: string, init: RequestInit = {}) => {
      const res = await fetch(new URL(url, issuer), {
        ...init,
        redirect: 'manual',
        headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
      return res;
    };
    const auth = new URL('/auth', issuer);
    for (const [k, v] of Object.entries({ client_id: CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: redirectUri, state: 's', code_challenge: challenge, code_challenge_method: 'S256' }))
      auth.searchParams.set(k, v);
    let res = await send(auth.href);
    for (let step = 0; step < 10; step++) {
      const location = res.headers.get('location');
      if (res.status === 200) {
        // An interaction page: the form says which prompt it answers (login or consent).
        const page = await res.text();
        const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
        const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
        if (!prompt || !action) throw new Error(`no form on the provider's page: ${page.slice(0, 200)}`);
        const body = new URLSearchParams({ prompt, ...(prompt === 'login' ? { login, password: 'any' } : {}) });
        res = await send(action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        continue;
      }
      if (!location) throw new Error(`provider answered ${res.status}: ${await res.text()}`);
      if (location.startsWith(redirectUri)) {
        const code = new URL(location).searchParams.get('code');
        if (!code) throw new Error(`no code: ${location}`);
        const token = await fetch(new URL('/token', issuer), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: CLIENT_ID, code_verifier: verifier }),
        });
        const json = (await token.json()) as { access_token?: string };
        if (!json.access_token) throw new Error(`no access token: ${JSON.stringify(json)}`);
        return json.access_token;
      }
      res = await send(location);
    }
    throw new Error('the sign-in did not finish in 10 steps');
  }

  async function stop(): Promise<void> {
    if (!server.listening) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  return { issuer, port, privateKey, publicJwk, redirectUri, signIn, stop, jwksFetches: () => jwksFetches };
}
