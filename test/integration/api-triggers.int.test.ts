/** PACS triggers resume a waiting case exactly once, however often the PACS repeats itself. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type Harness } from '../helpers/api-harness.js';

describe('trigger API', () => {
  let h: Harness;
  beforeAll(async () => void (h = await startApi()));
  afterAll(async () => h.close());

  it('resumes an awaiting_study case once when study-available is sent twice', async () => {
    const uid = `1.2.826.0.1.${Date.now()}.1`;
    const c = await h.seedCase('awaiting_study', { body: h.orderBody({ study: { studyInstanceUid: uid } }) });
    const first = await h.call('POST', '/v1/triggers/study-available', { as: 'pacs', body: { studyInstanceUid: uid } });
    const second = await h.call('POST', '/v1/triggers/study-available', { as: 'pacs', body: { studyInstanceUid: uid } });
    expect([first.status, first.json.resumed, second.status, second.json.resumed]).toEqual([202, 1, 202, 0]);
    expect((await h.store.get(c.id)).status).toBe('retrieving');
    expect((await h.store.timeline(c.id)).filter((t) => t.to === 'retrieving')).toHaveLength(1);
    expect((await h.jobIds('retrieve')).filter((j) => j.startsWith(`retrieve-${c.id}-a0-resume`))).toHaveLength(1);
  });

  it('resumes via the Orthanc webhook by patient when the order named no study, once for concurrent events', async () => {
    const patientId = `MRN-orthanc-${Date.now()}`;
    const c = await h.seedCase('awaiting_study', { body: h.orderBody({ patientId, study: null }) });
    const other = await h.seedCase('awaiting_study', { body: h.orderBody({ study: null }) });
    const body = { event: 'StableStudy', orthancStudyId: 'b9a1c2d3', studyInstanceUID: '1.2.3.4.5', accessionNumber: '', patientID: patientId };
    const results = await Promise.all([1, 2, 3].map(() => h.call('POST', '/v1/triggers/orthanc', { as: 'pacs', body })));
    expect(results.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(results.reduce((n, r) => n + r.json.resumed, 0)).toBe(1);
    expect((await h.store.get(c.id)).status).toBe('retrieving');
    expect((await h.store.get(other.id)).status).toBe('awaiting_study');
  });

  it('acknowledges and ignores other Orthanc events', async () => {
    const res = await h.call('POST', '/v1/triggers/orthanc', {
      as: 'pacs',
      body: { event: 'NewInstance', orthancStudyId: 'x', studyInstanceUID: '1.2.3', patientID: 'P' },
    });
    expect(res.status).toBe(202);
    expect(res.json.resumed).toBe(0);
  });

  it('answers 400 naming the field for a study UID that is not a DICOM UID', async () => {
    const res = await h.call('POST', '/v1/triggers/study-available', { as: 'pacs', body: { studyInstanceUid: 'abc' } });
    expect(res.status).toBe(400);
    expect(res.json.errors[0].path).toBe('studyInstanceUid');
  });
});
