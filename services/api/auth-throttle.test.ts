import express from 'express';
import { describe, expect, it } from 'vitest';
import { createUserDirectory, hashToken } from '../../shared/auth/users.js';
import { createLogger } from '../../shared/logger.js';
import { authenticate } from './auth.js';
import { authFailureThrottle, createAuthFailures, failureKey } from './auth-throttle.js';
import { problemHandler } from './problem.js';

async function serve(max: number) {
  const users = createUserDirectory([{ id: 'u1', name: 'User', roles: ['orderer'], tokenSha256: hashToken('good-token') }]);
  const app = express();
  app.use(authFailureThrottle(max, () => 0));
  app.get('/secret', authenticate({ users }), (_req, res) => void res.json({ ok: true }));
  app.use(problemHandler(createLogger({ level: 'silent' })));
  const server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const get = (token: string) => fetch(`http://127.0.0.1:${port}/secret`, { headers: { authorization: `Bearer ${token}` } });
  return { get, close: () => server.close() };
}

describe('authFailureThrottle with authenticate', () => {
  it('does not count successful requests', async () => {
    const s = await serve(2);
    try {
      for (let i = 0; i < 10; i++) expect((await s.get('good-token')).status).toBe(200);
    } finally {
      s.close();
    }
  });

  it('answers 429 to a bad token past the limit, and never to the good one', async () => {
    const s = await serve(2);
    try {
      expect([(await s.get('stale')).status, (await s.get('stale')).status, (await s.get('stale')).status]).toEqual([401, 401, 429]);
      expect((await s.get('good-token')).status).toBe(200);
    } finally {
      s.close();
    }
  });
});

describe('createAuthFailures', () => {
  it('throttles a key after the limit, with the seconds left in its minute, and lets it go when the minute is over', () => {
    let now = 1_000_000;
    const f = createAuthFailures(3, () => now);
    const key = failureKey('10.0.0.1', 'stale');
    for (let i = 0; i < 3; i++) {
      expect(f.retryAfterSeconds(key)).toBeNull();
      f.record(key);
    }
    now += 20_000;
    expect(f.retryAfterSeconds(key)).toBe(40);
    now += 40_000;
    expect(f.retryAfterSeconds(key)).toBeNull();
  });

  it('keeps keys apart: another token from the same address, or the same token from another address, has its own budget', () => {
    const f = createAuthFailures(2, () => 0);
    for (let i = 0; i < 5; i++) f.record(failureKey('10.0.0.1', 'stale'));
    expect(f.retryAfterSeconds(failureKey('10.0.0.1', 'stale'))).not.toBeNull();
    expect(f.retryAfterSeconds(failureKey('10.0.0.1', 'other'))).toBeNull();
    expect(f.retryAfterSeconds(failureKey('10.0.0.2', 'stale'))).toBeNull();
  });
});

describe('failureKey', () => {
  it('holds a fingerprint of the token, never the token', () => {
    const token = 'q'.repeat(43);
    expect(failureKey('::1', token)).not.toContain(token);
    expect(failureKey('::1', token)).toBe(failureKey('::1', token));
  });
});
