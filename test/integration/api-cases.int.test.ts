/** Cases, errors and cross-cutting behaviour of the API against a real Redis. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateCaseBody } from '../../shared/domain/case.js';
import { PacsUnavailable } from '../../shared/errors.js';
import { markFailed } from '../../workers/stage.js';
import { startApi, type Harness, type UserKey } from '../helpers/api-harness.js';

type BadInput = { raw?: string; body?: unknown; patch?: (b: CreateCaseBody) => void };

const PROBLEM = /^application\/problem\+json/;

describe('cases API', () => {
  let h: Harness;
  beforeAll(async () => void (h = await startApi({ bodyLimit: 4096 })));
  afterAll(async () => h.close());

  it('creates one case for the same order from the same orderer: 202 then 200 with the same id, and one retrieve job', async () => {
    const body = h.orderBody();
    const first = await h.call('POST', '/v1/cases', { as: 'orderer', body });
    const again = await h.call('POST', '/v1/cases', { as: 'orderer', body });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(first.json.id);
    expect(first.headers.get('location')).toBe(`/v1/cases/${first.json.id}`);
    expect(first.json.advisories.join(' ')).toMatch(/Medicare/);
    expect((await h.store.get(first.json.id)).advisories).toEqual(first.json.advisories);
    expect((await h.jobIds('retrieve')).filter((j) => j.includes(first.json.id))).toEqual([`retrieve-${first.json.id}-a0`]);
  });

  describe('an order id that is already used (issue 11, F4)', () => {
    const PHI = ['VANTERPOOL', 'OPHELIA', 'MRN-F4-FIRST', '1947-09-23'];
    async function first() {
      const body = h.orderBody({ patientId: 'MRN-F4-FIRST' });
      body.patient = { ...body.patient, id: 'MRN-F4-FIRST', name: 'VANTERPOOL^OPHELIA', birthDate: '1947-09-23' };
      const res = await h.call('POST', '/v1/cases', { as: 'orderer', body });
      expect(res.status).toBe(202);
      return { body, id: res.json.id as string };
    }
    async function expectConflict(res: Awaited<ReturnType<Harness['call']>>, firstId: string) {
      expect(res.status, res.text).toBe(409);
      expect(res.headers.get('content-type')).toMatch(PROBLEM);
      expect(res.json).toMatchObject({ status: 409, type: 'https://ildflow.dev/problems/order-id-conflict' });
      expect(res.json.detail).toMatch(/order id/);
      for (const s of [...PHI, firstId]) expect(res.text, `the answer shows ${s}`).not.toContain(s);
      expect(res.headers.get('location')).toBeNull();
      const c = await h.store.get(firstId);
      expect([c.patient.id, c.status]).toEqual(['MRN-F4-FIRST', 'queued']);
    }

    it('answers 409 to another orderer posting the same order id for another patient, and keeps the first case', async () => {
      const { body, id } = await first();
      const other = h.orderBody({ orderId: body.order.id });
      await expectConflict(await h.call('POST', '/v1/cases', { as: 'orderer2', body: other }), id);
    });

    it('answers 409 to another orderer (or source) posting the very same order', async () => {
      const { body, id } = await first();
      await expectConflict(await h.call('POST', '/v1/cases', { as: 'orderer2', body }), id);
      await expectConflict(await h.call('POST', '/v1/cases', { as: 'pacs', body }), id);
    });

    it('answers 409 to the same orderer reusing the order id for a different patient or study', async () => {
      const { body, id } = await first();
      await expectConflict(await h.call('POST', '/v1/cases', { as: 'orderer', body: { ...body, patient: { ...body.patient, id: 'MRN-F4-OTHER' } } }), id);
      await expectConflict(await h.call('POST', '/v1/cases', { as: 'orderer', body: { ...body, study: { accessionNumber: 'A999' } } }), id);
      expect((await h.jobIds('retrieve')).filter((j) => j.includes(id))).toEqual([`retrieve-${id}-a0`]);
    });
  });

  describe('internal paths and peer URLs (issue 11, F10)', () => {
    const PACS = 'https://pacs.radiology.internal:8443/dicom-web';
    /** A case that failed the way the retrieve worker records it: the PACS error names the PACS URL. */
    async function failedOnPacs() {
      const c = await h.seedCase('retrieving');
      const err = new PacsUnavailable(`QIDO-RS studies: connect ECONNREFUSED 10.20.30.40:8443 (${PACS})`);
      await markFailed(c.id, 'retrieve', err, 6, { store: h.store });
      return h.store.get(c.id);
    }

    it.each<UserKey>(['orderer', 'radiologist', 'billing', 'pacs', 'admin'])('never shows %s the spool path of the series', async (as) => {
      const c = await failedOnPacs();
      expect(c.source?.seriesDir).toMatch(/^\//); // stored: the workers need it
      const res = await h.call('GET', `/v1/cases/${c.id}`, { as });
      if (res.status === 403 || res.status === 404) return; // roles that may not read this case (see the role tests)
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(c.source!.seriesDir);
      expect(res.json.source?.seriesDir).toBeUndefined();
    });

    it('lists cases without spool paths', async () => {
      const c = await failedOnPacs();
      const res = await h.call('GET', `/v1/cases?patientId=${c.patient.id}`, { as: 'radiologist' });
      expect(res.json.items.map((i: { id: string }) => i.id)).toEqual([c.id]);
      expect(res.text).not.toContain(c.source!.seriesDir);
    });

    it('shows failure and timeline reasons without peer URLs or addresses to non-admins, and in full to admins', async () => {
      const c = await failedOnPacs();
      const seen = await h.call('GET', `/v1/cases/${c.id}`, { as: 'radiologist' });
      expect(seen.json.failure).toMatchObject({ stage: 'retrieve', attempts: 6, reason: expect.stringContaining('QIDO-RS studies') });
      for (const internal of ['pacs.radiology.internal', '8443', '10.20.30.40', 'https://']) expect(seen.text, `shows ${internal}`).not.toContain(internal);
      expect(seen.json.timeline.at(-1).reason).toMatch(/^retrieve failed after 6 attempt\(s\): QIDO-RS studies/);
      const admin = await h.call('GET', `/v1/cases/${c.id}`, { as: 'admin' });
      expect(admin.json.failure.reason).toContain(PACS);
      expect(admin.json.timeline.at(-1).reason).toContain(PACS);
    });
  });

  it.each<[string, BadInput, string[]]>([
    ['invalid JSON', { raw: '{"order": ' }, ['']],
    ['an empty body', { body: {} }, ['order', 'patient']],
    ['a bad ordering NPI', { patch: (b) => void (b.order.orderingProvider.npi = '1234567890') }, ['order.orderingProvider.npi']],
    ['a malformed ICD-10 code', { patch: (b) => void (b.order.indications = ['J84.10', 'XYZ']) }, ['order.indications.1']],
    ['a missing patient birth date', { patch: (b) => void ((b.patient as Partial<CreateCaseBody['patient']>).birthDate = undefined) }, ['patient.birthDate']],
    ['a missing order id', { patch: (b) => void ((b.order as Partial<CreateCaseBody['order']>).id = undefined) }, ['order.id']],
    // DICOM wildcards and the value delimiter would widen the PACS query (PS3.4 C.2.2.2.4, PS3.5 §6.4; issue 11 F8).
    ['a patient id with a DICOM wildcard *', { patch: (b) => void (b.patient.id = 'MRN-*') }, ['patient.id']],
    ['a patient id with a DICOM wildcard ?', { patch: (b) => void (b.patient.id = 'MRN-00?') }, ['patient.id']],
    ['a patient id with a backslash', { patch: (b) => void (b.patient.id = 'MRN-1\\MRN-2') }, ['patient.id']],
    ['an accession number with a wildcard', { patch: (b) => void (b.study = { accessionNumber: 'A*' }) }, ['study.accessionNumber']],
    ['an accession number with a backslash', { patch: (b) => void (b.study = { accessionNumber: 'A1\\A2' }) }, ['study.accessionNumber']],
  ])('answers 400 problem+json naming the fields for %s', async (_what, input, paths) => {
    const body = h.orderBody();
    input.patch?.(body);
    const res = await h.call('POST', '/v1/cases', { as: 'orderer', ...(input.raw ? { raw: input.raw } : { body: input.body ?? body }) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(PROBLEM);
    expect(res.json.type).toMatch(/validation-failed$/);
    expect(res.json.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(paths));
  });

  it('answers 413 problem+json for a body over the limit', async () => {
    const body = { ...h.orderBody(), pad: 'x'.repeat(5000) };
    const res = await h.call('POST', '/v1/cases', { as: 'orderer', body });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(PROBLEM);
  });

  it('writes an audit entry for a PHI read and returns the timeline', async () => {
    const c = await h.seedCase('awaiting_review');
    // The billing role no longer sees the timeline (issue 11, F1: api-case-access.int.test.ts); a radiologist does.
    const res = await h.call('GET', `/v1/cases/${c.id}`, { as: 'radiologist' });
    expect(res.status).toBe(200);
    expect(res.json.patient.id).toBe(c.patient.id);
    expect(res.json.timeline.map((t: { to: string }) => t.to)).toEqual(['queued', 'retrieving', 'analyzing', 'awaiting_review']);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const trail = await h.store.auditTrail();
    expect(trail).toContainEqual(expect.objectContaining({ userId: 'u-rad-1', action: 'case.read', caseId: c.id, ip: expect.stringMatching(/127\.0\.0\.1/) }));
  });

  it('answers 404 problem+json for an unknown case and an unknown route', async () => {
    const a = await h.call('GET', '/v1/cases/no-such-case', { as: 'admin' });
    const b = await h.call('GET', '/v1/nothing-here', { as: 'admin' });
    expect([a.status, b.status]).toEqual([404, 404]);
    expect(a.json.type).toMatch(/case-not-found$/);
    expect(b.headers.get('content-type')).toMatch(PROBLEM);
  });

  async function pages(patientId: string): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await h.call('GET', `/v1/cases?patientId=${patientId}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { as: 'orderer' });
      expect(res.status).toBe(200);
      seen.push(...res.json.items.map((c: { id: string }) => c.id));
      cursor = res.json.next;
    } while (cursor);
    return seen;
  }

  it('lists cases with a cursor, newest first, without repeats', async () => {
    const patientId = `MRN-list-${Date.now()}`;
    for (let i = 0; i < 5; i++) {
      await h.seedCase('queued', { body: h.orderBody({ patientId }) });
      await new Promise((r) => setTimeout(r, 3)); // distinct creation times: see the next test
    }
    const seen = await pages(patientId);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expect((await h.call('GET', '/v1/cases?limit=0', { as: 'orderer' })).status).toBe(400);
  });

  // Known store bug (shared/store/case-store.ts `list`): the cursor resumes strictly below the last
  // item's score (creation ms), so cases created in the same millisecond as a page's last item are
  // skipped. Expected to fail until the store breaks ties by id.
  it('lists every case even when several were created in the same millisecond', async () => {
    const patientId = `MRN-tie-${Date.now()}`;
    await Promise.all(Array.from({ length: 6 }, () => h.seedCase('queued', { body: h.orderBody({ patientId }) })));
    expect(await pages(patientId)).toHaveLength(6);
  });

  it.each([
    ['cancel a signed case', 'signed', 'cancel', 'orderer'],
    ['cancel a case in review', 'in_review', 'cancel', 'admin'],
    ['retry a queued case', 'queued', 'retry', 'admin'],
    ['claim a cancelled case', 'cancelled', 'claim', 'radiologist'],
  ] as const)('refuses a transition not in the table with 409 problem+json: %s', async (_what, status, action, as) => {
    const c = await h.seedCase(status);
    const res = await h.call('POST', `/v1/cases/${c.id}/${action}`, { as });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(PROBLEM);
    expect(res.json).toMatchObject({ status: 409, instance: `/v1/cases/${c.id}/${action}` });
    expect((await h.store.get(c.id)).status).toBe(status);
  });

  it('retries a failed case with the next attempt and a new retrieve job', async () => {
    const c = await h.seedCase('failed');
    const res = await h.call('POST', `/v1/cases/${c.id}/retry`, { as: 'admin' });
    expect(res.json).toEqual({ id: c.id, status: 'queued', attempt: 1 });
    expect(await h.jobIds('retrieve')).toContain(`retrieve-${c.id}-a1`);
  });

  it('serves only listed artifacts, refuses path traversal, and audits the read', async () => {
    const c = await h.seedCase('awaiting_review', { artifact: true });
    const ok = await h.call('GET', `/v1/cases/${c.id}/artifacts/report.pdf`, { as: 'radiologist' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/pdf');
    expect(ok.text).toContain('%PDF');
    // (`%2E%2E` alone is resolved by the client's URL parser before sending, so it is tested in the unit test.)
    for (const name of ['..%2F..%2F..%2Fetc%2Fpasswd', '..%2Freport.pdf', 'other.pdf', '.report.pdf'])
      expect((await h.call('GET', `/v1/cases/${c.id}/artifacts/${name}`, { as: 'radiologist' })).status).toBe(404);
    expect(await h.store.auditTrail()).toContainEqual(expect.objectContaining({ action: 'artifact.read', caseId: c.id }));
  });

  it('returns a trace id, continues an incoming traceparent, and sets the security headers', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await h.call('GET', '/healthz', { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } });
    expect(res.headers.get('x-request-id')).toBe(trace);
    expect(res.headers.get('traceparent')).toMatch(new RegExp(`^00-${trace}-[0-9a-f]{16}-01$`));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const other = await h.call('GET', '/v1/nope', { as: 'admin' });
    expect(other.json.traceId).toBe(other.headers.get('x-request-id'));
  });
});
