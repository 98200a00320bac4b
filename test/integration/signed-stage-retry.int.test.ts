/**
 * A signed case whose final report failed for good — the PACS refused the documents on every attempt — stays
 * signed with the failure recorded (the signature stands), and nothing re-runs it by itself: the reconciler
 * sees the failed job it calls for. An admin, once the PACS is fixed, retries the case
 * (POST /v1/cases/{id}/retry): the final report runs again as a new job of the same attempt, the case is billed
 * with exactly one charge, and the retry is in the timeline and the audit trail. A retry with nothing to retry
 * is 409; another role gets 403. Real API, workers and Redis, with a folder PACS whose results folder is
 * blocked by a file (its STOW, `storeInstances`, fails as a refusing PACS would).
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaseStore } from '../../shared/store/case-store.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';
import { until } from '../helpers/processes.js';
import { orderReviewCase } from '../helpers/review-case.js';

const PATIENT = { id: 'MRN-RETRY-SIGNED', name: 'STOW^STELLA', birthDate: '1952-06-06', sex: 'F' } as const;
const PROBLEM = /^application\/problem\+json/;

describe('retrying a signed case whose final report failed', () => {
  let h: Harness;
  beforeAll(async () => void (h = await startHarness()));
  afterAll(async () => h?.close());

  it('re-runs the final report after the PACS is fixed, bills once, and refuses a second retry (409) and other roles (403)', async () => {
    const store = createCaseStore(h.redis, h.prefix);
    const id = await orderReviewCase(h, { patient: PATIENT, orderId: 'ORD-RETRY-SIGNED', seed: 21 });

    // The PACS refuses the signed documents: the folder PACS keeps them in `ildflow-results`, here a file.
    const blocker = join(h.pacsDir, 'ildflow-results');
    await writeFile(blocker, 'not a folder');
    expect((await h.call('POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status).toBe(200);
    expect((await h.call('POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'accept', attestation: true })).status).toBe(200);

    // 5 attempts, 2 s backoff doubling (shared/queues.ts RETRY): ~30 s until the failure is recorded.
    await until('the final report to fail for good', async () => (await store.get(id)).failure?.stage === 'report', 90_000, 250);
    const failed = await store.get(id);
    expect(failed.status).toBe('signed');
    expect(failed.billing).toBeUndefined();

    // Only an admin may retry; the case is untouched by the others.
    for (const who of [TOKENS.radiologist, TOKENS.orderer, TOKENS.billing]) expect((await h.call('POST', `/v1/cases/${id}/retry`, who)).status).toBe(403);
    expect((await store.get(id)).version).toBe(failed.version);

    await rm(blocker);
    const retried = await h.call('POST', `/v1/cases/${id}/retry`, TOKENS.admin);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ id, status: 'signed', attempt: failed.attempt });

    const billed = await waitForStatus(h, id, ['billed'], 60_000);
    expect(billed.status ?? billed.case?.status).toBe('billed');
    const charges = (await store.billingEvents(undefined, 1000)).filter((e) => (e.event as { caseId: string }).caseId === id);
    expect(charges).toHaveLength(1);
    const after = await store.get(id);
    expect(after.failure).toBeUndefined();
    expect(after.attempt).toBe(failed.attempt); // same attempt: the same SR and PDF UIDs went to the PACS
    const timeline = await store.timeline(id);
    expect(timeline).toContainEqual(expect.objectContaining({ actor: 'u-admin', from: 'signed', to: 'signed', reason: expect.stringMatching(/^retry of the report stage by u-admin after: /) }));
    expect(timeline.filter((e) => e.to === 'billed')).toHaveLength(1);
    expect(await store.auditTrail()).toContainEqual(expect.objectContaining({ userId: 'u-admin', action: 'case.retry', caseId: id }));

    // Nothing left to retry: 409 problem+json, and no second charge.
    const again = await h.call('POST', `/v1/cases/${id}/retry`, TOKENS.admin);
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toMatch(PROBLEM);
    expect(again.body).toMatchObject({ status: 409, detail: expect.stringMatching(/^nothing to retry: .* this one is billed$/) });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await store.billingEvents(undefined, 1000)).filter((e) => (e.event as { caseId: string }).caseId === id)).toHaveLength(1);
  }, 240_000);
});
