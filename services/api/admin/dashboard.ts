/**
 * The queue dashboard for admins (bull-board) at /admin/queues, and how an admin gets into it.
 *
 * The dashboard's own pages and their XHRs cannot send a bearer header, so an admin exchanges the bearer
 * token for a short-lived session cookie: POST /v1/admin/dashboard-session (admin role) answers 204 with
 * `Set-Cookie: ildflow_dashboard=<user>.<expiry>.<HMAC-SHA256>` — HttpOnly, SameSite=Strict, Path=/admin/queues
 * (never sent to /v1), Secure when the request came over TLS (directly, or per X-Forwarded-Proto from a proxy in
 * ILDFLOW_TRUST_PROXY) or always with ILDFLOW_COOKIE_SECURE=always (RFC 6265 §4.1.2.5), 15 minutes. Every dashboard request checks the signature in
 * constant time, the expiry, and that the user still exists with the admin role. The signing key is
 * random per API process: a restart ends every session, and with several API replicas a session works on
 * the replica that issued it (docs/operations.md: sticky routing for /admin/queues, or one replica).
 *
 * The board is read-only: retrying or removing a BullMQ job behind the case store's back would skip the
 * lifecycle (docs/design.md §4). Admins act through the API (POST /v1/cases/{id}/retry, dead-letter replay);
 * the board is for watching depths, latencies and failure reasons. Jobs carry ids only, never PHI.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router, type Request, type RequestHandler } from 'express';
import type { UserDirectory } from '../../../shared/auth/users.js';
import { Unauthenticated } from '../../../shared/errors.js';
import { userOf } from '../context.js';

export const DASHBOARD_PATH = '/admin/queues';
export const DASHBOARD_COOKIE = 'ildflow_dashboard';
export const DASHBOARD_SESSION_SECONDS = 15 * 60;

/** The board's assets are its own scripts and styles (inline styles included); no third-party fonts. */
const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'";

export type Dashboard = Readonly<{
  /** POST /v1/admin/dashboard-session: mount behind bearer authentication and the admin role. */
  openSession: RequestHandler;
  /** The board and its API under /admin/queues, behind the session cookie. */
  router: Router;
}>;

export function createDashboard(deps: { users: UserDirectory; queues: readonly Queue[]; clock?: () => Date; secureCookie?: 'auto' | 'always' }): Dashboard {
  const key = randomBytes(32);
  const now = () => (deps.clock ?? (() => new Date()))().getTime();
  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');

  const openSession: RequestHandler = (req, res) => {
    const user = userOf(res);
    const expires = now() + DASHBOARD_SESSION_SECONDS * 1000;
    const payload = `${user.id}.${expires}`;
    const secure = deps.secureCookie === 'always' || req.secure; // req.secure honours `trust proxy` (app.ts)
    const attrs = [`Path=${DASHBOARD_PATH}`, 'HttpOnly', 'SameSite=Strict', `Max-Age=${DASHBOARD_SESSION_SECONDS}`, ...(secure ? ['Secure'] : [])];
    res.setHeader('Set-Cookie', `${DASHBOARD_COOKIE}=${encodeURIComponent(payload)}.${sign(payload)}; ${attrs.join('; ')}`);
    res.status(204).end();
  };

  /** The admin a valid, unexpired session cookie names, or null. */
  function sessionUser(req: Request) {
    const raw = cookie(req.get('cookie'), DASHBOARD_COOKIE);
    if (!raw) return null;
    const cut = raw.lastIndexOf('.');
    if (cut < 0) return null;
    const payload = raw.slice(0, cut);
    const presented = Buffer.from(raw.slice(cut + 1));
    const expected = Buffer.from(sign(payload));
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null;
    const dot = payload.lastIndexOf('.');
    const [id, expires] = [payload.slice(0, dot), Number(payload.slice(dot + 1))];
    if (!(expires > now())) return null;
    const user = deps.users.byId(id);
    return user && user.roles.includes('admin') ? user : null;
  }

  const guard: RequestHandler = (req, res, next) => {
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    res.locals.route = DASHBOARD_PATH; // the metrics label: one template for the whole board
    const user = sessionUser(req);
    if (!user) return next(new Unauthenticated(`the queue dashboard needs a session: POST /v1/admin/dashboard-session with an admin bearer token`));
    res.locals.user = user;
    next();
  };

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: deps.queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'ildflow queues' } },
  });
  const router = Router();
  router.use(DASHBOARD_PATH, guard, serverAdapter.getRouter() as RequestHandler);
  return { openSession, router };
}

function cookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}
