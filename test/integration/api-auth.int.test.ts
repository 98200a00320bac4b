/**
 * The authorization matrix (docs/design.md §6), walked route × role from the same table the router mounts:
 * an allowed role gets the route's success status on a case prepared for it; any other role gets 403;
 * no token or a bad token gets 401 with `WWW-Authenticate: Bearer` (RFC 6750 §3).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../shared/auth/users.js';
import { ROUTES, isAllowed, type RouteId, type RouteSpec } from '../../services/api/route-table.js';
import { startApi, type Harness, type UserKey } from '../helpers/api-harness.js';
import { seedDeadLetter } from '../helpers/billing-fixtures.js';
import { seedViewerCase } from '../helpers/viewer-case.js';

const ROLE_USER: Record<Role, UserKey> = { orderer: 'orderer', pacs: 'pacs', radiologist: 'radiologist', billing: 'billing', admin: 'admin' };
/** Seeds as the caller when it is a physician; others are refused by role before the case is read. */
const rad = (who: UserKey): UserKey => (who === 'radiologist2' ? who : 'radiologist');
const uid = () => `1.2.826.0.1.${Date.now()}.${Math.floor(Math.random() * 1e6)}`;

/** For each route: a request that succeeds for an allowed user (a fresh fixture each time). */
const PREPARE: Record<RouteId, (h: Harness, who: UserKey) => Promise<{ path: string; body?: unknown }>> = {
  createCase: async (h) => ({ path: '/v1/cases', body: h.orderBody() }),
  getCase: async (h) => ({ path: `/v1/cases/${(await h.seedCase('queued')).id}` }),
  listCases: async () => ({ path: '/v1/cases?limit=5' }),
  cancelCase: async (h) => ({ path: `/v1/cases/${(await h.seedCase('queued')).id}/cancel`, body: {} }),
  retryCase: async (h) => ({ path: `/v1/cases/${(await h.seedCase('failed')).id}/retry` }),
  reconcileCase: async (h) => ({ path: `/v1/cases/${(await h.seedCase('on_hold')).id}/reconcile`, body: { decision: 'confirm', reason: 'same patient: MRN merge confirmed with registration' } }),
  reviewQueue: async () => ({ path: '/v1/review/queue' }),
  claimCase: async (h) => ({ path: `/v1/cases/${(await h.seedCase('awaiting_review')).id}/claim` }),
  releaseCase: async (h, who) => ({ path: `/v1/cases/${(await h.seedCase('in_review', { by: rad(who) })).id}/release` }),
  submitReview: async (h, who) => ({ path: `/v1/cases/${(await h.seedCase('in_review', { by: rad(who) })).id}/review`, body: { decision: 'accept', attestation: true } }),
  addAddendum: async (h, who) => ({
    path: `/v1/cases/${(await h.seedCase('signed', { by: rad(who) })).id}/addendum`,
    body: { text: 'Compared with the 2024 CT: stable.' },
  }),
  listArtifacts: async (h) => ({ path: `/v1/cases/${(await h.seedCase('awaiting_review', { artifact: true })).id}/artifacts` }),
  getArtifact: async (h) => ({ path: `/v1/cases/${(await h.seedCase('awaiting_review', { artifact: true })).id}/artifacts/report.pdf` }),
  getViewer: async (h) => ({ path: `/v1/cases/${(await seedViewerCase(h)).id}/viewer` }),
  getSlice: async (h) => ({ path: `/v1/cases/${(await seedViewerCase(h)).id}/slices/3` }),
  getSliceLabels: async (h) => ({ path: `/v1/cases/${(await seedViewerCase(h)).id}/slices/3/labels` }),
  billingEvents: async () => ({ path: '/v1/billing/events?limit=10' }),
  studyAvailable: async () => ({ path: '/v1/triggers/study-available', body: { studyInstanceUid: uid() } }),
  orthancStableStudy: async () => ({
    path: '/v1/triggers/orthanc',
    body: { event: 'StableStudy', orthancStudyId: randomUUID(), studyInstanceUID: uid(), accessionNumber: '', patientID: 'MRN-X' },
  }),
  deadLetters: async () => ({ path: '/v1/admin/dead-letters?limit=5' }),
  dashboardSession: async () => ({ path: '/v1/admin/dashboard-session' }),
  replayDeadLetter: async (h) => ({ path: `/v1/admin/dead-letters/${(await seedDeadLetter(h.store)).id}/replay` }),
  me: async () => ({ path: '/v1/me' }),
  reviewPage: async () => ({ path: '/review' }),
  reviewAsset: async () => ({ path: '/review/app.js' }),
  healthz: async () => ({ path: '/healthz' }),
  readyz: async () => ({ path: '/readyz' }),
  metrics: async () => ({ path: '/metrics' }),
  openapi: async () => ({ path: '/v1/openapi.json' }),
};

const entries = Object.entries(ROUTES) as [RouteId, RouteSpec][];
const guarded = entries.filter(([, s]) => s.roles !== 'public');
const matrix = guarded.flatMap(([id, spec]) => ROLES.map((role) => ({ id, spec, role, allowed: isAllowed(spec, [role]) })));

describe('route × role authorization', () => {
  let h: Harness;
  beforeAll(async () => void (h = await startApi()));
  afterAll(async () => h.close());

  it.each(matrix)('$spec.method $spec.path as $role → allowed: $allowed', async ({ id, spec, role, allowed }) => {
    const who = ROLE_USER[role];
    const { path, body } = await PREPARE[id](h, who);
    const res = await h.call(spec.method.toUpperCase(), path, { as: who, body });
    if (allowed) {
      expect(res.status, res.text).toBe(spec.ok);
    } else {
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    }
  });

  it.each(guarded)('%s without a token → 401 with WWW-Authenticate: Bearer', async (id, spec) => {
    const { path, body } = await PREPARE[id](h, 'admin');
    const res = await h.call(spec.method.toUpperCase(), path, { body });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="ildflow"$/);
    expect(res.json).toMatchObject({ status: 401, type: expect.stringMatching(/unauthenticated$/) });
  });

  it.each(guarded)('%s with a bad token → 401 invalid_token', async (id, spec) => {
    const { path, body } = await PREPARE[id](h, 'admin');
    const res = await h.call(spec.method.toUpperCase(), path, { token: 'not-a-token', body });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it.each(entries.filter(([, s]) => s.roles === 'public' && s.path !== '/metrics'))('%s needs no token', async (id, spec) => {
    const { path } = await PREPARE[id](h, 'admin');
    expect((await h.call(spec.method.toUpperCase(), path)).status).toBe(spec.ok);
  });
});
