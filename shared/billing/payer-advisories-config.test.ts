/** The payer advisory table as configuration: ILDFLOW_PAYER_ADVISORIES_FILE, read and checked at start-up. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { ConfigInvalid } from '../errors.js';
import { advisoriesFor, DEFAULT_PAYER_ADVISORIES, parsePayerAdvisoryTable } from './payer-advisories.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ildflow-adv-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const env = (extra: Record<string, string>) => ({ ILDFLOW_USERS_FILE: 'users.json', ILDFLOW_PACS: 'file:///tmp', ...extra });

describe('payer advisory table from a file', () => {
  it('defaults to the table of docs/design.md', () => {
    expect(loadConfig(env({})).payerAdvisories).toEqual(DEFAULT_PAYER_ADVISORIES);
  });

  it('loads a reviewed table and the advisories follow it', () => {
    const table = { ...DEFAULT_PAYER_ADVISORIES, aetna: { advisories: ['Aetna CPB 0999 covers 0877T with prior authorization'], denialExpected: false } };
    const config = loadConfig(env({ ILDFLOW_PAYER_ADVISORIES_FILE: file('ok.json', JSON.stringify(table)) }));
    expect(advisoriesFor({ payer: 'aetna', memberId: 'M' }, config.payerAdvisories).advisories).toEqual(['Aetna CPB 0999 covers 0877T with prior authorization']);
  });

  it.each([
    ['a missing file', path.join(dir, 'nope.json'), /cannot read/],
    ['text that is not JSON', 'bad.json', /not JSON/],
    ['a table without Aetna', 'partial.json', /aetna/],
  ])('lists %s as a configuration problem', (_name, name, message) => {
    let p = name;
    if (name === 'bad.json') p = file(name, '{ nope');
    if (name === 'partial.json') {
      const { aetna: _a, ...rest } = DEFAULT_PAYER_ADVISORIES;
      p = file(name, JSON.stringify(rest));
    }
    try {
      loadConfig(env({ ILDFLOW_PAYER_ADVISORIES_FILE: p }));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigInvalid);
      expect((err as ConfigInvalid).problems.join('\n')).toMatch(message);
    }
  });

  it('refuses an advisory that is blank', () => {
    const r = parsePayerAdvisoryTable(JSON.stringify({ ...DEFAULT_PAYER_ADVISORIES, cigna: { advisories: ['  '], denialExpected: true } }));
    expect(r.ok).toBe(false);
  });
});
