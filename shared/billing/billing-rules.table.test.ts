/**
 * The billing rules as one table (issue 6, "Done means"): every payer × ABN state × prior/concurrent CT ×
 * billing mode → the codes and the modifiers on each line, through the real `buildChargeEvent`. The
 * expectations are written out by hand below, not recomputed from the rules.
 */
import { describe, expect, it } from 'vitest';
import { buildChargeEvent } from './charge-event.js';
import { makeSignedCase } from './test-fixtures.js';
import type { Coverage, Payer } from '../domain/case.js';
import type { BillingMode } from './select-codes.js';

type Abn = 'none' | 'unsigned' | 'signed';
type Timing = 'prior' | 'concurrent';

/** Liability modifier per payer and ABN state (docs/design.md §5): GA with a signed ABN, GZ without one where denial is expected. */
const LIABILITY: Record<Payer, Record<Abn, string[]>> = {
  medicare: { none: ['GZ'], unsigned: ['GZ'], signed: ['GA'] },
  aetna: { none: [], unsigned: [], signed: [] },
  bcbs: { none: [], unsigned: [], signed: [] },
  cigna: { none: [], unsigned: [], signed: [] },
  uhc: { none: [], unsigned: [], signed: [] },
  'self-pay': { none: [], unsigned: [], signed: [] },
  other: { none: [], unsigned: [], signed: [] },
};
const DENIAL_EXPECTED: Record<Payer, boolean> = { medicare: true, aetna: false, bcbs: true, cigna: true, uhc: true, 'self-pay': false, other: false };
const ADVISORY: Record<Payer, RegExp> = {
  medicare: /Medicare: no NCD or LCD/,
  aetna: /Aetna: no published position/,
  bcbs: /BCBS.*experimental/,
  cigna: /Cigna.*experimental/,
  uhc: /UnitedHealthcare.*experimental/,
  'self-pay': /Self-pay/,
  other: /Payer not in the table/,
};
const CODES: Record<BillingMode, Record<Timing, string[]>> = {
  global: { prior: ['0877T'], concurrent: ['0878T'] },
  split: { prior: ['0879T', '0880T'], concurrent: ['0879T', '0880T'] },
};

const ROWS = (Object.keys(LIABILITY) as Payer[]).flatMap((payer) =>
  (['none', 'unsigned', 'signed'] as Abn[]).flatMap((abn) =>
    (['prior', 'concurrent'] as Timing[]).flatMap((timing) =>
      (['global', 'split'] as BillingMode[]).map((mode) => ({
        payer,
        abn,
        timing,
        mode,
        codes: CODES[mode][timing],
        modifiers: LIABILITY[payer][abn],
      })),
    ),
  ),
);

const now = new Date('2026-11-27T17:00:00Z');

describe(`billing rules: ${ROWS.length} rows of payer × ABN × CT timing × mode`, () => {
  it.each(ROWS)('$payer, ABN $abn, $timing CT, $mode → $codes with $modifiers', ({ payer, abn, timing, mode, codes, modifiers }) => {
    const coverage: Coverage = {
      payer,
      memberId: 'M-1',
      ...(abn === 'none' ? {} : { abn: { signed: abn === 'signed', ...(abn === 'signed' ? { signedAt: '2026-11-27' } : {}) } }),
    };
    const c = makeSignedCase({ coverage });
    // The fixture CT is from 2026-10-02; a concurrent CT is one acquired on the encounter date.
    if (timing === 'concurrent') c.order = { ...c.order, encounterDate: '2026-10-02' };
    const e = buildChargeEvent(c, { mode, now });
    expect(e.lines.map((l) => l.code)).toEqual(codes);
    expect(e.lines.map((l) => l.modifiers)).toEqual(codes.map(() => modifiers));
    expect(e.lines.every((l) => l.units === 1)).toBe(true);
    expect(e.denialExpected).toBe(DENIAL_EXPECTED[payer]);
    expect(e.advisories.join('\n')).toMatch(ADVISORY[payer]);
    if (timing === 'concurrent') expect(e.lines.every((l) => l.notes.some((n) => /71250\/71260\/71270\/71271/.test(n)))).toBe(true);
    // Never 59/XU, never two liability modifiers.
    expect(e.lines.flatMap((l) => l.modifiers).filter((m) => ['59', 'XU', 'GY'].includes(m))).toEqual([]);
  });
});
