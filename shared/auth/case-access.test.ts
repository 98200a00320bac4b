import { describe, expect, it } from 'vitest';
import { caseAccess, legacyOrderer, mayCancel } from './case-access.js';

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

describe('legacyOrderer', () => {
  const entry = (actor: string, from: 'queued' | null = null) => ({ at: '2026-10-01T08:00:00Z', actor, from, to: 'queued' as const, reason: 'order accepted' });
  it('is the user who posted the order, named by the first timeline entry', () => expect(legacyOrderer(entry('u-ord'))).toBe('u-ord'));
  it.each([
    ['a worker', entry('worker:import')],
    ['an entry that is not the creation', entry('u-ord', 'queued')],
    ['no entry', undefined],
  ] as const)('is none for %s', (_what, e) => expect(legacyOrderer(e)).toBeUndefined());
});
