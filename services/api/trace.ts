/**
 * A trace id per request. An incoming W3C `traceparent` (Trace Context, §3.2) is continued; otherwise a
 * new trace starts. The response carries `traceparent` (our span) and `X-Request-Id` (the trace id), and
 * the trace id travels into job data so worker logs join up with the request's.
 */
import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

export function traceIdFrom(header: string | undefined): string | null {
  const m = TRACEPARENT.exec((header ?? '').trim());
  // An all-zero trace id is invalid (Trace Context §3.2.2.3).
  return m && !/^0+$/.test(m[1]!) ? m[1]! : null;
}

export const traceRequests: RequestHandler = (req, res, next) => {
  const traceId = traceIdFrom(req.get('traceparent')) ?? randomBytes(16).toString('hex');
  res.locals.traceId = traceId;
  res.setHeader('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
  res.setHeader('X-Request-Id', traceId);
  next();
};
