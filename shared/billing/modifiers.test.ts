import { describe, expect, it } from 'vitest';
import { liabilityConflicts, selectModifiers, type ModifierInput } from './modifiers.js';
import { Payer } from '../domain/case.js';

/** Every payer × ABN state × denial expectation × physician modifier × line component. */
const ALL_INPUTS: ModifierInput[] = Payer.options.flatMap((payer) =>
  [undefined, { signed: false }, { signed: true }, { signed: true, signedAt: '2026-12-31' }].flatMap((abn) =>
    [true, false].flatMap((denialExpected) =>
      [undefined, { code: '52' as const, reason: 'r' }, { code: '22' as const, reason: 'r' }].flatMap((serviceModifier) =>
        (['global', 'technical', 'professional'] as const).map((component) => ({
          payer,
          abn,
          denialExpected,
          serviceModifier,
          component,
          dateOfService: '2026-11-27',
        })),
      ),
    ),
  ),
);

const base: ModifierInput = { payer: 'medicare', denialExpected: true, component: 'global', dateOfService: '2026-11-27' };

describe('selectModifiers', () => {
  it.each<[string, Partial<ModifierInput>, string[]]>([
    ['Medicare with a signed ABN → GA', { abn: { signed: true, signedAt: '2026-11-20' } }, ['GA']],
    ['Medicare with a signed ABN on the date of service → GA', { abn: { signed: true, signedAt: '2026-11-27' } }, ['GA']],
    ['Medicare with a signed undated ABN → GA', { abn: { signed: true } }, ['GA']],
    ['Medicare with a signed ABN, denial not expected → GA', { abn: { signed: true }, denialExpected: false }, ['GA']],
    ['Medicare, denial expected, no ABN → GZ', {}, ['GZ']],
    ['Medicare, denial expected, unsigned ABN → GZ', { abn: { signed: false } }, ['GZ']],
    ['Medicare, denial expected, ABN signed after the service → GZ', { abn: { signed: true, signedAt: '2026-11-28' } }, ['GZ']],
    ['Medicare, denial not expected, no ABN → none', { denialExpected: false }, []],
    ['a reduced service → 52 before the liability modifier', { serviceModifier: { code: '52', reason: 'lung bases not covered' } }, ['52', 'GZ']],
    ['an increased service → 22', { serviceModifier: { code: '22', reason: 'extensive artefact correction' }, abn: { signed: true } }, ['22', 'GA']],
    ['a physician modifier on the professional line', { component: 'professional', serviceModifier: { code: '52', reason: 'r' } }, ['52', 'GZ']],
    ['no physician modifier on the technical line', { component: 'technical', serviceModifier: { code: '52', reason: 'r' } }, ['GZ']],
    ['UHC, denial expected, signed ABN → no GA/GZ', { payer: 'uhc', abn: { signed: true } }, []],
    ['Cigna with a 22 → only 22', { payer: 'cigna', serviceModifier: { code: '22', reason: 'r' } }, ['22']],
  ])('%s', (_name, patch, expected) => {
    expect(selectModifiers({ ...base, ...patch }).modifiers).toEqual(expected);
  });

  it('carries the physician reason and an ABN-after-service warning as notes', () => {
    const { notes } = selectModifiers({ ...base, abn: { signed: true, signedAt: '2026-12-01' }, serviceModifier: { code: '52', reason: 'apices cut off' } });
    expect(notes.join(' ')).toMatch(/52: apices cut off/);
    expect(notes.join(' ')).toMatch(/after the date of service/);
  });

  // Every combination of inputs (one test, not 500 rows): never two of GA/GY/GZ, never 59/XU, never
  // GA/GZ off Medicare, never 52/22 without the physician's modifier.
  it(`holds its invariants over all ${ALL_INPUTS.length} combinations of inputs`, () => {
    const violations = ALL_INPUTS.flatMap((input) => {
      const { modifiers } = selectModifiers(input);
      const bad = [
        ...liabilityConflicts(modifiers),
        ...modifiers.filter((m) => m === '59' || m === 'XU' || m === 'GY'),
        ...(input.payer !== 'medicare' ? modifiers.filter((m) => m === 'GA' || m === 'GZ') : []),
        ...(!input.serviceModifier ? modifiers.filter((m) => m === '52' || m === '22') : []),
      ];
      return bad.length ? [{ input, modifiers }] : [];
    });
    expect(violations).toEqual([]);
  });
});

describe('liabilityConflicts', () => {
  it.each<[string[], number]>([
    [['GA'], 0],
    [['52', 'GZ'], 0],
    [['GA', 'GZ'], 1],
    [['GA', 'GY'], 1],
    [['GY', 'GZ'], 1],
    [['22', '52', 'GA', 'GZ', 'XU'], 2],
  ])('finds %d problem(s) in %o', (modifiers, count) => {
    expect(liabilityConflicts(modifiers)).toHaveLength(count);
  });
});
