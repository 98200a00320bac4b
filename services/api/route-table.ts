/**
 * Every route of the API with the roles allowed to call it (docs/design.md §5 and §6). This table is the one
 * place authorization is declared: the routers mount from it, the OpenAPI document is generated from it,
 * and the integration tests walk it route × role.
 */
import type { Role } from '../../shared/auth/users.js';

export type RouteSpec = Readonly<{
  method: 'get' | 'post';
  /** OpenAPI form (`{id}`); `expressPath` converts it. */
  path: string;
  /** `public`: no bearer token (health checks; /metrics has its own optional token). */
  roles: readonly Role[] | 'public';
  summary: string;
  /** The success status. */
  ok: number;
  /** Problem statuses this route can answer besides 401/403/500. */
  problems: readonly number[];
  /** Responses carry PHI: reads are audited (docs/design.md §6). */
  phi?: boolean;
}>;

const ANY: readonly Role[] = ['orderer', 'pacs', 'radiologist', 'billing', 'admin'];

export const ROUTES = {
  createCase: { method: 'post', path: '/v1/cases', roles: ['orderer', 'pacs', 'admin'], ok: 202, problems: [400, 409, 413, 415], summary: 'Create a case from an order; 200 with the existing case when the same source posts the same order again, 409 when the order id holds another order' },
  getCase: { method: 'get', path: '/v1/cases/{id}', roles: ANY, ok: 200, problems: [404], phi: true, summary: 'The case with its timeline (audited PHI read); an orderer reads only its own orders, billing and pacs only the fields their job needs' },
  listCases: { method: 'get', path: '/v1/cases', roles: ['orderer', 'radiologist', 'admin'], ok: 200, problems: [400], phi: true, summary: 'List cases, newest first, with a cursor (an orderer: only its own orders)' },
  cancelCase: { method: 'post', path: '/v1/cases/{id}/cancel', roles: ['orderer', 'admin'], ok: 200, problems: [400, 404, 409], summary: 'Cancel a case before signature (an orderer: only its own orders)' },
  retryCase: { method: 'post', path: '/v1/cases/{id}/retry', roles: ['admin'], ok: 200, problems: [404, 409], summary: 'Retry a case (audited): a failed case is re-queued with the next attempt; a signed case whose final report or billing failed has that stage re-run (same attempt, one charge); 409 when there is nothing to retry' },
  reconcileCase: { method: 'post', path: '/v1/cases/{id}/reconcile', roles: ['admin'], ok: 200, problems: [400, 404, 409], summary: "An on_hold case (its study's patient identifiers disagree with the order's): confirm the study is the patient's (retrieval resumes) or cancel; audited" },
  reviewQueue: { method: 'get', path: '/v1/review/queue', roles: ['radiologist'], ok: 200, problems: [], phi: true, summary: 'awaiting_review and in_review cases: stat, urgent, routine, then oldest first' },
  claimCase: { method: 'post', path: '/v1/cases/{id}/claim', roles: ['radiologist'], ok: 200, problems: [404, 409], summary: 'Claim (or renew the lease on) a case for review' },
  releaseCase: { method: 'post', path: '/v1/cases/{id}/release', roles: ['radiologist'], ok: 200, problems: [404, 409], summary: 'Return a claimed case to the queue' },
  submitReview: { method: 'post', path: '/v1/cases/{id}/review', roles: ['radiologist'], ok: 200, problems: [400, 404, 409, 413], summary: 'Accept, amend or reject the result and sign (claim holder only)' },
  addAddendum: { method: 'post', path: '/v1/cases/{id}/addendum', roles: ['radiologist', 'admin'], ok: 200, problems: [400, 404, 409, 413], summary: 'Add an addendum (signer or admin); a change of decision is signed by a radiologist (NPI, attestation); a change to reject reverses the charge' },
  listArtifacts: { method: 'get', path: '/v1/cases/{id}/artifacts', roles: ['radiologist', 'billing', 'admin'], ok: 200, problems: [404], phi: true, summary: 'The artifacts of a case' },
  getArtifact: { method: 'get', path: '/v1/cases/{id}/artifacts/{name}', roles: ['radiologist', 'billing', 'admin'], ok: 200, problems: [404], phi: true, summary: 'One artifact (report PDF, SR, FHIR DiagnosticReport, key image)' },
  getViewer: { method: 'get', path: '/v1/cases/{id}/viewer', roles: ['radiologist', 'admin'], ok: 200, problems: [404], phi: true, summary: "The review viewer's document: series geometry (slices, rows, columns, spacing, positions), key images, the class vocabulary with colours, per-slice voxels of each class; series null once the spool is purged (images says where they are); audited once per view" },
  getSlice: { method: 'get', path: '/v1/cases/{id}/slices/{n}', roles: ['radiologist', 'admin'], ok: 200, problems: [404, 410], phi: true, summary: 'Slice n (0 = most cranial, the engine\'s order) as int16 little-endian HU, application/octet-stream, X-Slice-Rows/-Columns; strong ETag, 304 on If-None-Match, no-store; 410 series-not-held once the spool is purged' },
  getSliceLabels: { method: 'get', path: '/v1/cases/{id}/slices/{n}/labels', roles: ['radiologist', 'admin'], ok: 200, problems: [404, 410], phi: true, summary: "Slice n of the engine's label map: one uint8 class value per pixel (the vocabulary's value, 0 = none); 404 no-label-map when the engine returned none" },
  billingEvents: { method: 'get', path: '/v1/billing/events', roles: ['billing'], ok: 200, problems: [400, 410], phi: true, summary: 'Charge and reversal events in order after a cursor (at-least-once; dedupe on eventId); 410 with oldest_cursor when the cursor is behind the feed window' },
  deadLetters: { method: 'get', path: '/v1/admin/dead-letters', roles: ['admin'], ok: 200, problems: [400], summary: 'Billing events an output gave up on (MLLP AR, webhook 4xx, retries exhausted), oldest first' },
  dashboardSession: { method: 'post', path: '/v1/admin/dashboard-session', roles: ['admin'], ok: 204, problems: [], summary: 'A 15-minute session cookie for the queue dashboard at /admin/queues (its pages cannot send a bearer header)' },
  replayDeadLetter: { method: 'post', path: '/v1/admin/dead-letters/{id}/replay', roles: ['admin'], ok: 202, problems: [404], summary: 'Queue a dead-lettered billing event for redelivery on its output (idempotent while pending)' },
  studyAvailable: { method: 'post', path: '/v1/triggers/study-available', roles: ['pacs'], ok: 202, problems: [400, 413], summary: 'A study is available: resume the cases waiting for it' },
  orthancStableStudy: { method: 'post', path: '/v1/triggers/orthanc', roles: ['pacs'], ok: 202, problems: [400, 413], summary: 'Orthanc OnStableStudy webhook' },
  me: { method: 'get', path: '/v1/me', roles: ANY, ok: 200, problems: [], summary: 'The signed-in user: id, name, roles (the review page uses it to tell its own claims)' },
  reviewPage: { method: 'get', path: '/review', roles: 'public', ok: 200, problems: [], summary: 'The review web page (static; it signs in at the OpenID Provider or with a pasted token, the bearer token kept in sessionStorage)' },
  reviewAsset: { method: 'get', path: '/review/{asset}', roles: 'public', ok: 200, problems: [404], summary: 'A static asset of the review web page (script, style sheet, sign-in.json: the provider and client it signs in with)' },
  healthz: { method: 'get', path: '/healthz', roles: 'public', ok: 200, problems: [], summary: 'Liveness' },
  readyz: { method: 'get', path: '/readyz', roles: 'public', ok: 200, problems: [503], summary: 'Readiness: Redis and the PACS answer' },
  metrics: { method: 'get', path: '/metrics', roles: 'public', ok: 200, problems: [], summary: 'Prometheus metrics (bearer ILDFLOW_METRICS_TOKEN when configured)' },
  openapi: { method: 'get', path: '/v1/openapi.json', roles: 'public', ok: 200, problems: [], summary: 'This API as OpenAPI 3.1' },
} as const satisfies Record<string, RouteSpec>;

export type RouteId = keyof typeof ROUTES;

/** `/v1/cases/{id}` → `/v1/cases/:id` (path-to-regexp, express 5). */
export function expressPath(path: string): string {
  return path.replace(/\{([A-Za-z]+)\}/g, ':$1');
}

export function isAllowed(spec: RouteSpec, roles: readonly Role[]): boolean {
  return spec.roles === 'public' || roles.some((r) => (spec.roles as readonly Role[]).includes(r));
}
