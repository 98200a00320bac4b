/**
 * The served OpenAPI 3.1 document, generated from the route table and the zod schemas the handlers parse
 * with (zod 4 `z.toJSONSchema`, JSON Schema 2020-12, the dialect OpenAPI 3.1 uses), so the spec cannot
 * drift from what the API validates. Roles appear as `x-roles` on each operation.
 */
import { z } from 'zod';
import { AddendumBody, CreateCaseBody, ReviewBody } from '../../shared/domain/case.js';
import { ReconcileBody } from '../../shared/lifecycle/identity-hold.js';
import { BillingEventsQuery } from './billing/billing-events.js';
import { CancelBody } from './cases/cancel-case.js';
import { ListCasesQuery } from './cases/list-cases.js';
import { ROUTES, type RouteId, type RouteSpec } from './route-table.js';
import { OrthancStableStudyBody, StudyAvailableBody } from './triggers/study-available.js';

const BODIES: Partial<Record<RouteId, z.ZodType>> = {
  createCase: CreateCaseBody,
  cancelCase: CancelBody,
  reconcileCase: ReconcileBody,
  submitReview: ReviewBody,
  addAddendum: AddendumBody,
  studyAvailable: StudyAvailableBody,
  orthancStableStudy: OrthancStableStudyBody,
};
const QUERIES: Partial<Record<RouteId, z.ZodObject>> = { listCases: ListCasesQuery, billingEvents: BillingEventsQuery };

/** Raw slices (cases/viewer.ts): little-endian arrays of rows × columns, named by these headers. */
const SLICE_HEADERS = {
  ETag: { description: 'Strong entity tag; send it in If-None-Match for a 304', schema: { type: 'string' } },
  'X-Slice-Rows': { schema: { type: 'integer' } },
  'X-Slice-Columns': { schema: { type: 'integer' } },
  'X-Slice-Encoding': { description: '`int16le-hu` (HU) or `uint8-class` (class values of the viewer document)', schema: { type: 'string' } },
};
const BINARY: Partial<Record<RouteId, true>> = { getSlice: true, getSliceLabels: true };

// Refinements (NPI Luhn, ICD-10 format) cannot be expressed in JSON Schema: they are described in the
// field messages and enforced by the server.
const jsonSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request (the `errors` member names the fields)',
  401: 'No or invalid bearer token (RFC 6750)',
  403: 'The user has none of the roles of this route',
  404: 'Not found',
  410: 'Gone: the series is no longer held by ildflow (purged after retention); the images are in the PACS',
  409: 'The case is not in a state that allows this (docs/design.md §4), another physician holds it, or the order id holds another order',
  413: 'Request body too large',
  415: 'Unsupported body encoding',
  500: 'Internal error (details are in the server log under the trace id)',
  503: 'Not ready',
};

const PROBLEM = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', format: 'uri-reference' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    traceId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
};

function operation(id: RouteId, spec: RouteSpec) {
  const pathParams = [...spec.path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const q = QUERIES[id];
  const qs = q ? (jsonSchema(q) as { properties?: Record<string, unknown>; required?: string[] }) : undefined;
  const queryParams = Object.entries(qs?.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: qs?.required?.includes(name) ?? false, schema }));
  const body = BODIES[id];
  const statuses = [...new Set([...(spec.roles === 'public' ? [] : [401, 403]), ...spec.problems, 500])].sort();
  return {
    operationId: id,
    summary: spec.summary,
    'x-roles': spec.roles,
    security: spec.roles === 'public' ? [] : [{ bearer: [] }],
    parameters: [...pathParams, ...queryParams],
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(body) } } } } : {}),
    responses: {
      [String(spec.ok)]: BINARY[id]
        ? { description: 'Success', headers: SLICE_HEADERS, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }
        : { description: 'Success' },
      ...(BINARY[id] ? { '304': { description: 'Not Modified: the If-None-Match tag is current' } } : {}),
      ...Object.fromEntries(
        statuses.map((s) => [String(s), { description: STATUS_TEXT[s] ?? 'Problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } }]),
      ),
    },
  };
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [id, spec] of Object.entries(ROUTES) as [RouteId, RouteSpec][]) (paths[spec.path] ??= {})[spec.method] = operation(id, spec);
  return {
    openapi: '3.1.0',
    info: { title: 'ildflow API', version: '1', description: 'Retrospective chest-CT ILD analysis (CPT 0877T) workflow. Errors are RFC 9457 problem details.' },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'RFC 6750 bearer token' } },
      schemas: { Problem: PROBLEM },
    },
  };
}
