import { describe, expect, it } from 'vitest';
import { Coverage, Order, Patient, SourceSeries } from '../domain/case.js';
import { EngineResult } from '../engines/contract.js';
import { isValidNpi } from '../codes/npi.js';
import { FIXTURE_NPI, makeSignedCase } from './test-fixtures.js';

describe('makeSignedCase', () => {
  const c = makeSignedCase();
  it.each<[string, { safeParse: (v: unknown) => { success: boolean } }, unknown]>([
    ['order', Order, c.order],
    ['patient', Patient, c.patient],
    ['coverage', Coverage, c.coverage],
    ['source', SourceSeries, c.source],
    ['result', EngineResult, c.result],
  ])('gives a %s that passes its schema', (_name, schema, value) => {
    expect(schema.safeParse(value).success).toBe(true);
  });

  it.each(Object.entries(FIXTURE_NPI))('uses a valid NPI for the %s', (_role, npi) => expect(isValidNpi(npi)).toBe(true));

  it('returns a fresh object on each call', () => {
    const a = makeSignedCase();
    a.order.indications.push('R05.1');
    a.result!.quantities.extents.honeycombing = 0;
    expect(makeSignedCase()).toEqual(c);
  });

  it('is signed by the physician who was shown this engine version', () => {
    expect(c.status).toBe('signed');
    expect(c.review?.shown).toMatchObject({ engineId: c.result?.engine.id, engineVersion: c.result?.engine.version });
  });
});
