/**
 * Load (docs/design.md §8, issue #7): 50 cases submitted at once all reach review, none lost or duplicated;
 * the review queue answers every request at 100 requests/s with 10,000 cases stored. These tests assert
 * correctness only — the machine is shared, so speed is the bench's business (`npm run bench` prints the
 * same figures with their targets). The per-stage figures are printed for the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSignedCase } from '../../shared/billing/test-fixtures.js';
import { loadAt, seedCases } from '../../services/cli/bench-api.js';
import { describeThroughput, runThroughput } from '../../services/cli/bench-throughput.js';
import { startApi, type Harness } from '../helpers/api-harness.js';
import { TEST_REDIS_URL } from '../helpers/redis-keys.js';

describe('load: 50 cases submitted at once', () => {
  it('brings every case to awaiting_review exactly once, none lost, none duplicated', async () => {
    // Two analyses at once (the machine's two cores): bounds the test's time, and runs analyses side by side.
    const run = await runThroughput({ redisUrl: TEST_REDIS_URL, cases: 50, patients: 5, timeoutMs: 150_000, env: { ILDFLOW_ANALYZE_CONCURRENCY: '2' } });
    for (const line of describeThroughput(run)) console.log(line);

    expect(run.ids).toHaveLength(50); // 50 orders → 50 distinct cases
    expect(run.stored).toBe(50); // and the store holds no more, no fewer
    expect(run.statuses).toEqual({ awaiting_review: 50 });
    expect(run.irregular).toEqual([]); // each case moved into retrieving, analyzing and awaiting_review once
    for (const s of run.stages) {
      expect(s.jobs, s.stage).toBe(50); // one completed job per case and stage (ids are deterministic)
      expect(s.retried, s.stage).toBe(0);
    }
  }, 240_000);
});

describe('load: the review queue with 10,000 cases stored', () => {
  let h: Harness;
  let queued: string[];
  beforeAll(async () => {
    h = await startApi();
    const t = performance.now();
    queued = await seedCases(h.redis, h.prefix, makeSignedCase(), { total: 10_000, inReview: 300, inReviewClaimed: 30 });
    console.log(`seeded 10,000 cases (300 in review) in ${((performance.now() - t) / 1000).toFixed(2)} s`);
  }, 120_000);
  afterAll(async () => h.close());

  it('lists the queue in priority order, then oldest first', async () => {
    const res = await h.call('GET', '/v1/review/queue', { as: 'radiologist' });
    expect(res.status).toBe(200);
    const items = res.json.items as { id: string; priority: string; createdAt: string; status: string }[];
    expect(items).toHaveLength(200); // the queue's page size
    expect(new Set(items.map((i) => i.id)).size).toBe(200);
    expect(items.every((i) => queued.includes(i.id) && (i.status === 'awaiting_review' || i.status === 'in_review'))).toBe(true);
    const rank = { stat: 0, urgent: 1, routine: 2 } as Record<string, number>;
    const key = (i: (typeof items)[number]) => [rank[i.priority]!, Date.parse(i.createdAt)] as const;
    for (let i = 1; i < items.length; i++) {
      const [a, b] = [key(items[i - 1]!), key(items[i]!)];
      expect(a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]), `${items[i - 1]!.id} before ${items[i]!.id}`).toBe(true);
    }
  });

  it('answers every request with 200 at 100 requests/s (autocannon)', async () => {
    const f = await loadAt(`${h.baseUrl}/v1/review/queue`, { rate: 100, seconds: 8, token: h.tokens.radiologist });
    console.log(`review queue at 100/s: ${f.requests} requests, p50 ${f.p50} ms, p90 ${f.p90} ms, p99 ${f.p99} ms, max ${f.max} ms (speed: see npm run bench)`);
    expect(f.requests).toBe(800);
    expect(f.errors).toBe(0);
    expect(f.timeouts).toBe(0);
    expect(f.non2xx).toBe(0);
    expect(f.statusCodes).toEqual({ '200': 800 });
  }, 60_000);
});
