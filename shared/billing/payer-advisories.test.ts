import { describe, expect, it } from 'vitest';
import { advisoriesFor, DEFAULT_PAYER_ADVISORIES, PayerAdvisoryTable } from './payer-advisories.js';
import type { Coverage, Payer } from '../domain/case.js';

describe('advisoriesFor', () => {
  it.each<[Payer, boolean, RegExp]>([
    ['medicare', true, /no NCD or LCD.*contractor-priced.*ABN/],
    ['uhc', true, /UnitedHealthcare.*experimental.*prior authorization/],
    ['cigna', true, /Cigna.*experimental.*prior authorization/],
    ['bcbs', true, /BCBS.*experimental.*prior authorization/],
    ['aetna', false, /Aetna: no published position.*verify/i],
    ['self-pay', false, /Self-pay/],
    ['other', false, /verify coverage/],
  ])('gives %s its policy (denial expected: %s)', (payer, denialExpected, text) => {
    const advice = advisoriesFor({ payer, memberId: 'M1' });
    expect(advice.denialExpected).toBe(denialExpected);
    expect(advice.advisories.join('\n')).toMatch(text);
  });

  it.each<[string, Coverage, RegExp | null, RegExp | null]>([
    ['Medicare with a signed ABN says GA', { payer: 'medicare', memberId: 'M', abn: { signed: true, signedAt: '2026-11-27' } }, /ABN.*dated 2026-11-27.*GA/, /GZ/],
    ['Medicare without an ABN warns of GZ and provider liability', { payer: 'medicare', memberId: 'M' }, /GZ.*provider/, /GA\./],
    ['Medicare with an unsigned ABN warns of GZ', { payer: 'medicare', memberId: 'M', abn: { signed: false } }, /GZ/, null],
    ['a commercial payer with an ABN says the ABN has no effect', { payer: 'uhc', memberId: 'M', abn: { signed: true } }, /Original Medicare only/, /GA|GZ/],
    ['an insured patient without a member id', { payer: 'aetna' }, /No member id/, null],
    ['a self-pay patient without a member id', { payer: 'self-pay' }, null, /member id/],
  ])('%s', (_name, coverage, present, absent) => {
    const text = advisoriesFor(coverage).advisories.join('\n');
    if (present) expect(text).toMatch(present);
    if (absent) expect(text).not.toMatch(absent);
  });

  it('uses a caller-supplied table', () => {
    const table = PayerAdvisoryTable.parse({
      ...DEFAULT_PAYER_ADVISORIES,
      aetna: { advisories: ['Aetna CPB 0999 covers 0877T'], denialExpected: false },
    });
    expect(advisoriesFor({ payer: 'aetna', memberId: 'M' }, table).advisories).toEqual(['Aetna CPB 0999 covers 0877T']);
  });

  it('refuses a table that leaves a payer out', () => {
    const { aetna: _omitted, ...partial } = DEFAULT_PAYER_ADVISORIES;
    expect(PayerAdvisoryTable.safeParse(partial).success).toBe(false);
  });

  it('validates the default table against its own schema', () => {
    expect(PayerAdvisoryTable.parse(DEFAULT_PAYER_ADVISORIES)).toEqual(DEFAULT_PAYER_ADVISORIES);
  });
});
