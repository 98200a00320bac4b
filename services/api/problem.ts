/**
 * RFC 9457 problem details: the one mapper from errors to `application/problem+json` (docs/style.md §4).
 * Unknown errors are 500 `about:blank` with no detail (nothing internal leaks) and are logged with the
 * trace id; they are never reported as a client error.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { z } from 'zod';
import { AppError, CursorExpired, PayloadTooLarge, ValidationFailed, fieldErrors, type FieldError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { traceIdOf } from './context.js';

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance: string;
  /** Extension members (RFC 9457 §3.2: letters, digits and `_`). */
  errors?: readonly FieldError[];
  [extension: string]: unknown;
};

/** body-parser's errors carry a `type` (https://github.com/expressjs/body-parser#errors). */
type BodyParserError = Error & { type: string; status?: number };
const isBodyParserError = (e: unknown): e is BodyParserError =>
  e instanceof Error && typeof (e as { type?: unknown }).type === 'string' && typeof (e as { status?: unknown }).status === 'number';

function fromAppError(e: AppError, instance: string): Problem {
  const p: Problem = { type: e.type, title: e.title, status: e.status, detail: e.detail, instance };
  if (e instanceof ValidationFailed) p.errors = e.errors;
  if (e instanceof CursorExpired) p.oldest_cursor = e.oldestCursor;
  return p;
}

/** Maps any thrown value to a problem. `instance` is the request path (never the query: it may hold an MRN). */
export function toProblem(err: unknown, instance: string): Problem {
  if (err instanceof AppError) return fromAppError(err, instance);
  if (err instanceof z.ZodError) return fromAppError(new ValidationFailed(fieldErrors(err.issues)), instance);
  if (isBodyParserError(err)) {
    if (err.type === 'entity.too.large') return fromAppError(new PayloadTooLarge('the request body exceeds the configured limit'), instance);
    if (err.type === 'entity.parse.failed')
      return fromAppError(new ValidationFailed([{ path: '', message: 'the body is not valid JSON' }]), instance);
    if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported')
      return { type: 'about:blank', title: 'Unsupported Media Type', status: 415, detail: err.message, instance };
  }
  return { type: 'about:blank', title: 'Internal Server Error', status: 500, instance };
}

export function sendProblem(res: Response, p: Problem): void {
  res.status(p.status).type('application/problem+json').send(JSON.stringify({ ...p, traceId: traceIdOf(res) || undefined }));
}

/** The last middleware: every error becomes a problem; 5xx are logged with the trace id. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const p = toProblem(err, req.originalUrl.split('?')[0] ?? '/');
    if (p.status >= 500) logger.error({ err, traceId: traceIdOf(res), method: req.method, route: res.locals.route }, 'request failed');
    if (res.headersSent) {
      res.destroy(); // a streamed artifact failed midway: cut the connection rather than send a corrupt file
      return;
    }
    sendProblem(res, p);
  };
}
