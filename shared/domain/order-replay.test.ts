import { describe, expect, it } from 'vitest';
import { caseIn } from '../review/test-cases.js';
import type { CreateCaseBody } from './case.js';
import { orderReplay } from './order-replay.js';

const existing = caseIn('queued', { orderedBy: 'u-ord' });
const body: CreateCaseBody = { order: existing.order, patient: existing.patient, coverage: existing.coverage, ...(existing.requestedStudy ? { study: existing.requestedStudy } : {}) };

describe('orderReplay', () => {
  it('is a replay for the same source and the same order, whatever the key order', () => {
    const reordered = JSON.parse(JSON.stringify({ coverage: body.coverage, patient: body.patient, order: body.order, study: body.study })) as CreateCaseBody;
    expect(orderReplay(existing, reordered, 'u-ord')).toEqual({ replay: true });
  });

  it('is a source conflict for another user, even with the same order', () => {
    expect(orderReplay(existing, body, 'u-ord-2')).toEqual({ replay: false, conflict: 'source' });
  });

  it('is a source conflict for a case stored without its source', () => {
    expect(orderReplay({ ...existing, orderedBy: undefined }, body, 'u-ord')).toEqual({ replay: false, conflict: 'source' });
  });

  it('names the parts that differ for the same source', () => {
    const other = { ...body, patient: { ...body.patient, id: 'MRN-OTHER' }, study: { accessionNumber: 'A999' } };
    expect(orderReplay(existing, other, 'u-ord')).toEqual({ replay: false, conflict: 'content', differs: ['patient', 'study'] });
  });
});
