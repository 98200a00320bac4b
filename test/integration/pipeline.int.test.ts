/**
 * The whole case pipeline, end to end, through the real API, BullMQ queues, workers and Redis, with
 * real DICOM files as the image source.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline, QUEUE } from '../../shared/queues.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { scanKeys } from '../helpers/redis-keys.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';

const PATIENT = { id: 'MRN-E2E-7731', name: 'QUINTERO^ZELDA', birthDate: '1958-03-14', sex: 'F' };
const PHI_NEEDLES = ['MRN-E2E-7731', 'QUINTERO', 'ZELDA', '1958-03-14', '19580314'];

const order = (id: string, patient = PATIENT, extra: Record<string, unknown> = {}) => ({
  order: {
    id,
    orderedAt: '2026-11-27T09:00:00Z',
    priority: 'routine',
    orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' },
    indications: ['J84.10', 'R06.00'],
  },
  patient,
  coverage: { payer: 'medicare', memberId: '1EG4TE5MK73', abn: { signed: true, signedAt: '2026-11-27' } },
  ...extra,
});

/** A small but eligible series: 64 slices × 2.5 mm = 160 mm of coverage. */
async function writeStudy(h: Harness, folder: string, patient: typeof PATIENT, over: Record<string, unknown> = {}) {
  return generatePhantom({
    dir: join(h.pacsDir, folder),
    pattern: 'uip',
    seed: 11,
    rows: 128,
    columns: 128,
    slices: 64,
    sliceThicknessMm: 2.5,
    patient: { id: patient.id, name: patient.name, birthDate: patient.birthDate.replace(/-/g, ''), sex: 'F' },
    study: { accessionNumber: `ACC-${folder}`, studyDate: '20261020' },
    shuffleInstanceNumbers: true,
    ...over,
  });
}

describe('the case pipeline', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await writeStudy(h, 'e2e', PATIENT);
  });
  afterAll(async () => h?.close());

  it('takes an order to billed through the real workers, with one 0877T charge', async () => {
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order('ORD-E2E-1'));
    expect(created.status).toBe(202);
    const id = created.body.id as string;

    const ready = await waitForStatus(h, id, ['awaiting_review']);
    const c = ready.case ?? ready;
    expect(c.result.classification.category).toBe('uip');
    expect(c.source.sliceCount).toBe(64);
    expect(c.artifacts.map((a: { name: string }) => a.name)).toContain('diagnostic-report.json');

    expect((await h.call('POST', `/v1/cases/${id}/claim`, TOKENS.radiologist, {})).status).toBe(200);
    const review = await h.call('POST', `/v1/cases/${id}/review`, TOKENS.radiologist, { decision: 'accept', attestation: true });
    expect(review.status).toBe(200);

    const billed = await waitForStatus(h, id, ['billed']);
    const timeline = (billed.timeline as { to: string }[]).map((e) => e.to);
    expect(timeline).toEqual(expect.arrayContaining(['queued', 'retrieving', 'analyzing', 'awaiting_review', 'in_review', 'signed', 'billed']));
    expect(timeline.indexOf('retrieving')).toBeLessThan(timeline.indexOf('analyzing'));
    expect(timeline.indexOf('signed')).toBeLessThan(timeline.indexOf('billed'));

    const feed = await h.call('GET', '/v1/billing/events?limit=100', TOKENS.billing);
    expect(feed.status).toBe(200);
    const mine = feed.body.events.filter((e: { event: { caseId: string } }) => e.event.caseId === id);
    expect(mine).toHaveLength(1);
    const charge = mine[0].event;
    expect(charge.lines.map((l: { code: string }) => l.code)).toEqual(['0877T']);
    expect(charge.lines[0].modifiers).toContain('GA'); // Medicare with a signed ABN
    expect(charge.documentation.order.id).toBe('ORD-E2E-1');
    expect(charge.documentation.review.physician.npi).toBe('1234567893');
    expect(charge.documentation.sourceStudy.seriesInstanceUid).toBe(c.source.seriesInstanceUid);
    expect(charge.documentation.result.category).toBe('uip');
    expect(charge.documentation.engine.regulatoryStatus).toBe('research');
    // The charge names the verified SR and the PDF it documents (docs/design.md §5 "report references").
    expect(charge.documentation.reports.srSopInstanceUid).toMatch(/^[0-9.]+$/);
    expect(charge.documentation.reports.pdfSha256).toMatch(/^[0-9a-f]{64}$/);

    // A replayed billing job (a retry after a crash) bills nothing twice.
    const pipeline = createPipeline(h.redis, h.prefix);
    await pipeline.enqueue(QUEUE.billing, { caseId: id, traceId: 'replay' }, 0, { tag: 'replay' });
    await pipeline.enqueue(QUEUE.report, { caseId: id, traceId: 'replay', phase: 'final' }, 0, { tag: 'replay' });
    await new Promise((r) => setTimeout(r, 1500));
    await pipeline.close();
    const again = await h.call('GET', '/v1/billing/events?limit=100', TOKENS.billing);
    expect(again.body.events.filter((e: { event: { caseId: string } }) => e.event.caseId === id)).toHaveLength(1);
  });

  it('keeps PHI out of job payloads and logs', async () => {
    const bullKeys = await scanKeys(h.redis, `${h.prefix}:bull`);
    expect(bullKeys.length).toBeGreaterThan(0);
    let dump = '';
    for (const key of bullKeys) {
      const type = await h.redis.type(key);
      if (type === 'hash') dump += JSON.stringify(await h.redis.hgetall(key));
      else if (type === 'list') dump += JSON.stringify(await h.redis.lrange(key, 0, -1));
      else if (type === 'zset') dump += JSON.stringify(await h.redis.zrange(key, '0', '-1'));
      else if (type === 'stream') dump += JSON.stringify(await h.redis.xrange(key, '-', '+'));
      else if (type === 'string') dump += (await h.redis.get(key)) ?? '';
    }
    expect(dump).toContain('caseId'); // the dump did read the job payloads
    const logs = h.logs();
    expect(logs).toContain('stage done'); // and the logs were captured
    for (const needle of PHI_NEEDLES) {
      expect(dump, `job data contains ${needle}`).not.toContain(needle);
      expect(logs, `logs contain ${needle}`).not.toContain(needle);
    }
  });

  it('waits in awaiting_study, then resumes once when the PACS says the study arrived', async () => {
    const patient = { ...PATIENT, id: 'MRN-LATE-1' };
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order('ORD-LATE-1', patient));
    const id = created.body.id as string;
    await waitForStatus(h, id, ['awaiting_study']);

    await writeStudy(h, 'late', patient);
    const first = await h.call('POST', '/v1/triggers/study-available', TOKENS.pacs, { studyInstanceUid: '1.2.3.4', patientId: patient.id });
    const second = await h.call('POST', '/v1/triggers/study-available', TOKENS.pacs, { studyInstanceUid: '1.2.3.4', patientId: patient.id });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);

    const ready = await waitForStatus(h, id, ['awaiting_review']);
    const resumed = (ready.timeline as { from: string; to: string }[]).filter((e) => e.from === 'awaiting_study' && e.to === 'retrieving');
    expect(resumed).toHaveLength(1);
  });

  it('makes a case ineligible, with the reasons, when every series is too thick', async () => {
    const patient = { ...PATIENT, id: 'MRN-THICK-1' };
    await writeStudy(h, 'thick', patient, { sliceThicknessMm: 5, slices: 40 });
    const created = await h.call('POST', '/v1/cases', TOKENS.orderer, order('ORD-THICK-1', patient));
    const done = await waitForStatus(h, created.body.id, ['ineligible']);
    const c = done.case ?? done;
    expect(c.ineligibleReasons.join('; ')).toMatch(/slice thickness 5 mm > 3 mm allowed/);
    expect(c.billing).toBeUndefined();
  });

  it('gives the same case for the same order id', async () => {
    const a = await h.call('POST', '/v1/cases', TOKENS.orderer, order('ORD-SAME-1'));
    const b = await h.call('POST', '/v1/cases', TOKENS.orderer, order('ORD-SAME-1'));
    expect(a.status).toBe(202);
    expect(b.status).toBe(200);
    expect(b.body.id).toBe(a.body.id);
  });
});
