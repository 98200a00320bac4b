/** Health, readiness, metrics and the served OpenAPI document. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACS_CHECK_REUSE_MS } from '../../services/api/health/health.js';
import { ROUTES } from '../../services/api/route-table.js';
import { startApi, type Harness } from '../helpers/api-harness.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

describe('operations API', () => {
  let h: Harness;
  let pacsUp = true;
  beforeAll(async () => {
    h = await startApi({ metricsToken: METRICS_TOKEN, pacsReady: async () => { if (!pacsUp) throw new Error('PACS refused the connection'); } });
  });
  afterAll(async () => h.close());

  it('is live, and ready only while Redis and the PACS answer (the PACS check is reused for a few seconds)', async () => {
    expect((await h.call('GET', '/healthz')).json).toEqual({ status: 'ok' });
    expect((await h.call('GET', '/readyz')).status).toBe(200);
    pacsUp = false;
    expect((await h.call('GET', '/readyz')).status, 'within the reuse interval').toBe(200);
    h.advance(PACS_CHECK_REUSE_MS);
    const down = await h.call('GET', '/readyz');
    pacsUp = true;
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // The reason is the log's, not the public answer's (issue 11: it named the PACS URL).
    expect(down.json.checks).toEqual({ redis: 'ok', pacs: 'failed' });
    expect(down.text).not.toContain('refused');
    h.advance(PACS_CHECK_REUSE_MS);
    expect((await h.call('GET', '/readyz')).status).toBe(200);
  });

  it('serves metrics behind the metrics token, with request durations by route template and queue depths', async () => {
    const c = await h.seedCase('queued');
    await h.call('GET', `/v1/cases/${c.id}`, { as: 'admin' });
    expect((await h.call('GET', '/metrics')).status).toBe(401);
    const res = await h.call('GET', '/metrics', { token: METRICS_TOKEN });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/ildflow_http_request_duration_seconds_count\{method="GET",route="\/v1\/cases\/\{id\}",status="200"\} 1/);
    expect(res.text).not.toContain(c.id);
    expect(res.text).toMatch(/ildflow_queue_jobs\{queue="retrieve",state="waiting"\}/);
  });

  it('serves an OpenAPI 3.1 document listing every route with its roles and problem responses', async () => {
    const res = await h.call('GET', '/v1/openapi.json');
    expect(res.json.openapi).toBe('3.1.0');
    for (const spec of Object.values(ROUTES)) {
      const op = res.json.paths[spec.path]?.[spec.method];
      expect(op, `${spec.method} ${spec.path}`).toBeDefined();
      expect(op['x-roles']).toEqual(spec.roles);
      for (const s of spec.problems) expect(op.responses[String(s)].content['application/problem+json']).toBeDefined();
    }
    const create = res.json.paths['/v1/cases'].post;
    expect(create.requestBody.content['application/json'].schema.properties.order.required).toEqual(expect.arrayContaining(['id', 'orderingProvider']));
    expect(create.responses['401']).toBeDefined();
  });
});
