import type { RequestHandler } from 'express';
import { userOf } from '../context.js';

/** GET /v1/me: who the token belongs to (no PHI; not audited). */
export const me: RequestHandler = (_req, res) => {
  const u = userOf(res);
  res.json({ id: u.id, name: u.name, roles: u.roles, ...(u.npi ? { npi: u.npi } : {}) });
};
