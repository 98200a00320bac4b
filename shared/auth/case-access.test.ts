import { describe, expect, it } from 'vitest';
import { caseAccess, mayCancel } from './case-access.js';

const own = { orderedBy: 'u-ord' };
const user = (id: string, ...roles: ('orderer' | 'pacs' | 'radiologist' | 'billing' | 'admin')[]) => ({ id, roles });

describe('caseAccess', () => {
  it.each([
    ['an admin', user('u-admin', 'admin'), 'full'],
    ['a radiologist', user('u-rad', 'radiologist'), 'full'],
    ['the orderer who placed it', user('u-ord', 'orderer'), 'full'],
    ['another orderer', user('u-ord-2', 'orderer'), null],
    ['billing', user('u-bill', 'billing'), 'billing'],
    ['the PACS', user('u-pacs', 'pacs'), 'pacs'],
    ['another orderer who also bills', user('u-ord-2', 'orderer', 'billing'), 'billing'],
  ] as const)('gives %s %s', (_who, u, access) => expect(caseAccess(own, u)).toBe(access));

  it('gives no orderer a case stored without its orderer', () => {
    expect(caseAccess({}, user('u-ord', 'orderer'))).toBeNull();
  });
});

describe('mayCancel', () => {
  it.each([
    [user('u-admin', 'admin'), true],
    [user('u-ord', 'orderer'), true],
    [user('u-ord-2', 'orderer'), false],
    [user('u-rad', 'radiologist'), false],
  ] as const)('%o → %s', (u, ok) => expect(mayCancel(own, u)).toBe(ok));
});
