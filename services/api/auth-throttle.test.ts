import express from 'express';
import { describe, expect, it } from 'vitest';
import { Unauthenticated } from '../../shared/errors.js';
import { authFailureThrottle } from './auth-throttle.js';
import { problemHandler } from './problem.js';
import { createLogger } from '../../shared/logger.js';

async function serve(max: number, clock: () => number) {
  const app = express();
  app.use(authFailureThrottle(max, clock));
  app.get('/ok', (_req, res) => void res.json({ ok: true }));
  app.get('/secret', (_req, _res, next) => next(new Unauthenticated('bad token')));
  app.use(problemHandler(createLogger({ level: 'silent' })));
  const server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  return { get: (p: string) => fetch(`http://127.0.0.1:${port}${p}`), close: () => server.close() };
}

describe('authFailureThrottle', () => {
  it('answers 429 with Retry-After after too many 401s from one address, until the minute is over', async () => {
    let now = 1_000_000;
    const s = await serve(3, () => now);
    try {
      for (let i = 0; i < 3; i++) expect((await s.get('/secret')).status).toBe(401);
      const blocked = await s.get('/ok');
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('content-type')).toMatch(/problem\+json/);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      now += 60_000;
      expect((await s.get('/ok')).status).toBe(200);
    } finally {
      s.close();
    }
  });

  it('does not count successful requests', async () => {
    const s = await serve(2, () => 0);
    try {
      for (let i = 0; i < 10; i++) expect((await s.get('/ok')).status).toBe(200);
    } finally {
      s.close();
    }
  });
});
