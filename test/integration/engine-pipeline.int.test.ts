/**
 * An external engine behind the real pipeline (API, BullMQ, analyze worker, Redis): an engine that answers
 * garbage fails the case at once with that reason; one that hangs fails it after the bounded retries;
 * and the same worker then analyses the next case normally.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { RETRY } from '../../shared/queues.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';
import { startHttpEngine, type ExampleHttpEngine } from '../helpers/example-engines.js';

const PATIENT = { id: 'MRN-ENG-1', name: 'ENGINE^TEST', birthDate: '1955-05-05', sex: 'F' };

const order = (id: string, studyInstanceUid: string) => ({
  order: { id, orderedAt: '2026-11-27T09:00:00Z', priority: 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
  patient: PATIENT,
  study: { studyInstanceUid },
  coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: '2026-11-27' } },
});

describe('an external engine in the pipeline', () => {
  let h: Harness;
  let engine: ExampleHttpEngine;
  const studies: string[] = [];
  beforeAll(async () => {
    engine = await startHttpEngine('garbage');
    h = await startHarness({ ILDFLOW_ENGINE: engine.url, ILDFLOW_ENGINE_TIMEOUT_SECONDS: '1' });
    for (const seed of [1, 2, 3, 4]) {
      const p = await generatePhantom({
        dir: join(h.pacsDir, `s${seed}`), pattern: 'uip', seed, rows: 128, columns: 128, slices: 64, sliceThicknessMm: 2.5,
        patient: { id: PATIENT.id, name: PATIENT.name, birthDate: '19550505', sex: 'F' },
        study: { accessionNumber: `ACC-ENG-${seed}`, studyDate: '20261020' },
      });
      studies.push(p.studyInstanceUid);
    }
  });
  afterAll(async () => {
    await h?.close();
    await engine?.stop();
  });

  it('fails the case at once, with the reason, when the engine answers garbage', async () => {
    const { body } = await h.call('POST', '/v1/cases', TOKENS.orderer, order('ORD-ENG-1', studies[0]!));
    const c = await waitForStatus(h, body.id, ['failed']);
    expect(c.failure.stage).toBe('analyze');
    expect(c.failure.reason).toMatch(/answered an invalid ildflow\.engine-result\/1/);
    expect((await engine.stats()).posts).toBe(1); // not retried
  });

  it('fails the case after the bounded retries when the engine hangs', async () => {
    await engine.setMode('hang');
    const { body } = await h.call('POST', '/v1/cases', TOKENS.orderer, order('ORD-ENG-2', studies[1]!));
    const c = await waitForStatus(h, body.id, ['failed'], 60_000);
    expect(c.failure.reason).toMatch(/did not answer within 1 s/);
    expect(c.failure.attempts).toBe(RETRY.analyze.attempts);
    expect((await engine.stats()).posts).toBe(RETRY.analyze.attempts);
  });

  it('keeps the worker healthy: the next case is analysed once the engine answers', async () => {
    await engine.setMode('ok');
    const { body } = await h.call('POST', '/v1/cases', TOKENS.orderer, order('ORD-ENG-3', studies[2]!));
    const c = await waitForStatus(h, body.id, ['awaiting_review']);
    expect(c.result.engine.id).toBe('example-http');
    expect(c.result.classification.category).toBe('probable_uip');
  });

  it("makes the case ineligible, with the engine's words, when the engine declines the series", async () => {
    await engine.setMode('refuse');
    const { body } = await h.call('POST', '/v1/cases', TOKENS.orderer, order('ORD-ENG-4', studies[3]!));
    const c = await waitForStatus(h, body.id, ['ineligible']);
    expect(c.ineligibleReasons[0]).toMatch(/refused the series: contrast-enhanced series are not supported/);
  });
});
