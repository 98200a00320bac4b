import { describe, expect, it } from 'vitest';
import { personName } from './person-name.js';

describe('personName', () => {
  it.each([
    ['DOE^JANE', 'DOE^JANE'],
    [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }, 'Yamada^Tarou'],
    [[{ Alphabetic: 'DOE^JANE' }], 'DOE^JANE'],
    ['Yamada^Tarou=山田^太郎', 'Yamada^Tarou'],
    [[], undefined],
    [{ Ideographic: '山田' }, undefined],
    ['  ', undefined],
  ])('reads %j as %j', (value, expected) => {
    expect(personName(value)).toBe(expected);
  });
});
