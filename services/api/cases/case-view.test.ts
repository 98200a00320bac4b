import { describe, expect, it } from 'vitest';
import { makeReview } from '../../../shared/billing/test-fixtures.js';
import type { Case } from '../../../shared/domain/case.js';
import { caseIn } from '../../../shared/review/test-cases.js';
import { caseView, timelineView, withoutInternals } from './case-view.js';

describe('withoutInternals', () => {
  it.each([
    ['QIDO-RS studies: no answer within 30000 ms (https://pacs.internal:8443/dicom-web)', 'QIDO-RS studies: no answer within 30000 ms ([internal])'],
    ['connect ECONNREFUSED 10.0.0.5:4242', 'connect ECONNREFUSED [internal]'],
    ['C-FIND refused by ORTHANC@pacs.local:4242', 'C-FIND refused by [internal]'],
    ['engine at [fd00::1]:9000 timed out', 'engine at [internal] timed out'],
    ['cannot read /srv/dicom/study-1/IM0001.dcm', 'cannot read [internal]'],
    ['dicom://ORTHANC@10.1.2.3:104?retrieve=c-get refused', '[internal] refused'],
    ['pacs-host:8042 reset the connection', '[internal] reset the connection'],
  ])('%j → %j', (text, shown) => expect(withoutInternals(text)).toBe(shown));

  it.each([
    'slice thickness 5 mm > 3 mm allowed',
    'HTTP 503 from the PACS',
    'retrieve failed after 6 attempt(s): 40/300 images missing',
    'signed at 15:30 by Ada Reyes, MD',
    'ratio 1/2',
  ])('leaves plain text alone: %j', (text) => expect(withoutInternals(text)).toBe(text));
});

const ADMIN = { id: 'u-admin', roles: ['admin'] } as const;
const RAD = { id: 'u-rad-1', roles: ['radiologist'] } as const;
const ORDERER = { id: 'u-ord', roles: ['orderer'] } as const;

describe('caseView', () => {
  const failed = caseIn('failed', { failure: { stage: 'retrieve', reason: 'WADO-RS series: HTTP 500 from the PACS (http://pacs:8042/dicom-web)', at: '2026-11-27T10:00:00Z', attempts: 6 } });

  it('drops the spool path for every role, admins included', () => {
    for (const viewer of [ADMIN, RAD, ORDERER, { id: 'u-bill', roles: ['billing'] }, { id: 'u-pacs', roles: ['pacs'] }] as const) {
      const shown = caseView(failed, viewer) as { source?: Record<string, unknown> };
      expect(shown.source).toBeDefined();
      expect(shown.source).not.toHaveProperty('seriesDir');
      expect(shown.source?.seriesInstanceUid, viewer.id).toBe(failed.source?.seriesInstanceUid);
    }
    expect(failed.source?.seriesDir).toBeDefined(); // the stored case is not changed
  });

  it('shows the failure reason whole to an admin, without the PACS URL to others', () => {
    expect((caseView(failed, ADMIN) as Case).failure?.reason).toContain('http://pacs:8042/dicom-web');
    expect((caseView(failed, RAD) as Case).failure).toEqual({ ...failed.failure, reason: 'WADO-RS series: HTTP 500 from the PACS ([internal])' });
  });

  it("records that the engine returned no label map, without the engine's address to others than an admin", () => {
    const c = caseIn('awaiting_review', { labelMap: { status: 'none', reason: 'external http engine (engine.local:9000/ild) returned no label map: no overlay is shown' } });
    expect((caseView(c, ADMIN) as Case).labelMap).toEqual(c.labelMap);
    expect((caseView(c, RAD) as Case).labelMap).toEqual({ status: 'none', reason: 'external http engine ([internal]/ild) returned no label map: no overlay is shown' });
  });

  it('does the same to timeline reasons', () => {
    const entries = [{ at: 'x', actor: 'worker:retrieve', from: 'retrieving', to: 'failed', reason: 'retrieve failed: http://pacs/x' }] as const;
    expect(timelineView(entries, ADMIN)[0]!.reason).toContain('http://pacs/x');
    expect(timelineView(entries, ORDERER)[0]!.reason).toBe('retrieve failed: [internal]');
  });

  it("shows another orderer nothing, and the PACS role no patient, order details, result or review", () => {
    expect(caseView(failed, { id: 'u-ord-2', roles: ['orderer'] })).toBeNull();
    const signed = caseIn('signed');
    expect(caseView(signed, { id: 'u-pacs', roles: ['pacs'] })).toEqual({
      id: signed.id,
      status: 'signed',
      createdAt: signed.createdAt,
      updatedAt: signed.updatedAt,
      requestedStudy: signed.requestedStudy,
      order: { id: signed.order.id },
      source: { studyInstanceUid: signed.source!.studyInstanceUid, seriesInstanceUid: signed.source!.seriesInstanceUid, accessionNumber: 'A123' },
    });
  });

  it('shows billing the claim documentation, without clinical text or engine internals', () => {
    const signed = caseIn('signed', { review: makeReview({ comment: 'clinical note' }) });
    const shown = caseView(signed, { id: 'u-bill', roles: ['billing'] }) as Record<string, any>;
    expect(Object.keys(shown).sort()).toEqual(['advisories', 'coverage', 'createdAt', 'id', 'order', 'patient', 'result', 'review', 'source', 'status', 'updatedAt']);
    expect(shown.result).toEqual({ engine: signed.result!.engine, classification: { category: signed.result!.classification.category } });
    expect(Object.keys(shown.review).sort()).toEqual(['addenda', 'attestation', 'classification', 'decision', 'signedAt', 'signer']);
    expect(shown.source).not.toHaveProperty('selection');
  });
});
