/* global sessionStorage, location, history, fetch, crypto, TextEncoder, btoa, URL, URLSearchParams */
// Sign-in at the hospital's OpenID Provider: the authorization code flow with PKCE (RFC 7636, S256) as a
// public client (RFC 6749 §2.1: a page cannot keep a client secret). The access token is kept in
// sessionStorage like a pasted token (it ends with the tab); the PKCE verifier and `state` (RFC 6749 §10.12,
// against a forged redirect) live there only between leaving for the provider and coming back.

const FLOW_KEY = 'ildflow.oidc.flow';
const UNREACHABLE = 'The hospital sign-in cannot be reached right now. Try again shortly, or sign in with a token.';

/** The provider and client the server names, or null when the page signs in with tokens only. */
export async function providerSettings() {
  try {
    const res = await fetch('/review/sign-in.json', { cache: 'no-store' });
    const s = await res.json();
    return s.issuer && s.clientId ? s : null;
  } catch {
    return null;
  }
}

/** OpenID Connect Discovery 1.0 §4: the provider's endpoints; its `issuer` must be ours (§4.3). */
async function discover(issuer) {
  let doc;
  try {
    const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { cache: 'no-store' });
    doc = res.ok ? await res.json() : null;
  } catch {
    doc = null;
  }
  if (!doc || doc.issuer !== issuer) throw new Error(UNREACHABLE);
  return doc;
}

const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
const redirectUri = () => `${location.origin}/review`;

/** Leaves for the provider's login page. */
export async function startSignIn(settings) {
  const doc = await discover(settings.issuer);
  const verifier = random();
  const state = random();
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  // The hash (an open case) is kept, so the physician comes back where they were.
  sessionStorage.setItem(FLOW_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
  const url = new URL(doc.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: settings.clientId, redirect_uri: redirectUri(), scope: 'openid',
    state, code_challenge: challenge, code_challenge_method: 'S256',
  }).toString();
  location.assign(url.href);
}

/** On the way back from the provider: the access token; null when this page load is no such return. */
export async function finishSignIn(settings) {
  const q = new URLSearchParams(location.search);
  if (!q.has('state')) return null;
  const flow = JSON.parse(sessionStorage.getItem(FLOW_KEY) || 'null');
  sessionStorage.removeItem(FLOW_KEY);
  history.replaceState(null, '', `/review${flow?.hash || ''}`); // the code is single-use: off the address bar
  if (!flow || q.get('state') !== flow.state) throw new Error('That sign-in did not start on this page: sign in again.');
  if (q.get('error')) throw new Error(`The hospital sign-in did not complete (${q.get('error')}): sign in again.`);
  const doc = await discover(settings.issuer);
  let json;
  try {
    const res = await fetch(doc.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: q.get('code') || '', redirect_uri: redirectUri(), client_id: settings.clientId, code_verifier: flow.verifier }),
    });
    json = await res.json();
  } catch {
    throw new Error(UNREACHABLE);
  }
  if (!json.access_token) throw new Error('The hospital sign-in gave no access token: sign in again.');
  return json.access_token;
}
