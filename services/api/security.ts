/** Response headers every answer carries (OWASP Secure Headers). The API serves JSON and files, no pages. */
import type { RequestHandler } from 'express';

export const securityHeaders: RequestHandler = (req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('Referrer-Policy', 'no-referrer');
  // Responses under /v1 may carry PHI: no cache anywhere may keep them (RFC 9111 §5.2.2.5).
  if (req.path.startsWith('/v1/')) res.setHeader('Cache-Control', 'no-store');
  next();
};
