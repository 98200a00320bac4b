/**
 * Refuses a request whose path is not valid percent-encoded UTF-8 (RFC 3986 §2.1: `%` and two hex digits;
 * the octets must be UTF-8, §2.5) with 400 problem+json, before any router decodes a parameter of it.
 * Otherwise express's router throws decodeURIComponent's URIError from the route match, which reaches the
 * problem mapper as an unknown error: a 500 logged with a stack, for any client and any route. The whole
 * path is checked once: a UTF-8 sequence never contains `/` (0x2F), so a path that decodes has no segment
 * (and no parameter) that does not.
 */
import type { RequestHandler } from 'express';
import { MalformedUri } from '../../shared/errors.js';

export const refuseMalformedPath: RequestHandler = (req, _res, next) => {
  try {
    decodeURIComponent(req.path);
  } catch {
    // Not echoed in the detail: a path segment may be anything the client sent.
    return next(new MalformedUri('the request path has a malformed percent-encoding'));
  }
  next();
};
