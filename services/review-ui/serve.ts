/**
 * Serves the review web page (docs/design.md §3 `services/review-ui/`): plain HTML, CSS and a JavaScript
 * module, no build step. The files carry no PHI and need no token; every call the page makes goes to
 * /v1 with the physician's bearer token, where roles, auditing and `Cache-Control: no-store` apply.
 * The page gets its own Content-Security-Policy: scripts and styles from this origin only, images from
 * this origin or blob: (key images are fetched with the token and shown as object URLs; the viewer draws
 * slices it fetched as raw arrays on a canvas, which needs no img-src). With a provider
 * sign-in configured, `sign-in.json` names the issuer and the page's client id, and the policy lets the page
 * reach the provider's origin (discovery and the token endpoint: the page is a public client, RFC 6749 §2.1).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Router, type RequestHandler } from 'express';
import { NotFound } from '../../shared/errors.js';
import type { Credentials } from '../api/auth.js';
import { mount } from '../api/mount.js';

const ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'sign-in.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'viewer.js': 'text/javascript; charset=utf-8',
  'viewer-render.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'sign-in.json': 'application/json',
};

/** The page's policy; `connect` adds the provider's origin when the page signs in there. */
export const pageCsp = (connect: readonly string[] = []): string =>
  `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src ${["'self'", ...connect].join(' ')}; ` +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export type ReviewSignIn = Readonly<{ issuer: string; clientId: string }>;

/** The folder of the page: next to this module in the source tree; from dist/, the source tree's. */
export function publicDir(): string {
  for (const rel of ['./public/', '../../../services/review-ui/public/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  throw new Error('the review page assets (services/review-ui/public) are missing');
}

export function reviewUiRoutes(credentials: Credentials, signIn?: ReviewSignIn): Router {
  const dir = publicDir();
  const cache = new Map<string, Buffer>([['sign-in.json', Buffer.from(JSON.stringify(signIn ?? {}))]]);
  const csp = pageCsp(signIn ? [new URL(signIn.issuer).origin] : []);
  const send =
    (name: (p: Record<string, string>) => string): RequestHandler =>
    async (req, res) => {
      const file = name(req.params as Record<string, string>);
      const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
      if (!type) throw new NotFound(`no review page asset ${file}`);
      let body = cache.get(file);
      if (!body) {
        body = await readFile(dir + file);
        cache.set(file, body);
      }
      res.setHeader('Content-Security-Policy', csp);
      res.setHeader('Cache-Control', 'no-cache'); // revalidate: a new release's script is picked up at once
      res.type(type).send(body);
    };
  const r = Router();
  mount(r, credentials, 'reviewPage', send(() => 'index.html'));
  mount(r, credentials, 'reviewAsset', send((p) => p.asset ?? ''));
  return r;
}
