/** Per-request values set by the middleware: the trace id, the user and the route template. */
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Principal } from '../../shared/auth/provider-claims.js';
import { Unauthenticated, ValidationFailed, fieldErrors } from '../../shared/errors.js';

export function traceIdOf(res: Response): string {
  return (res.locals.traceId as string | undefined) ?? '';
}

export function userOf(res: Response): Principal {
  const u = res.locals.user as Principal | undefined;
  if (!u) throw new Unauthenticated('no authenticated user'); // a route mounted without `authenticate`
  return u;
}

/** Parses request input; a failure is a 400 naming every field (RFC 9457 `errors` extension). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationFailed(fieldErrors(r.error.issues));
  return r.data;
}

/** The address an audit entry records ("from where", docs/design.md §6). */
export function clientIp(req: Request): string | undefined {
  return req.ip ?? req.socket.remoteAddress;
}
