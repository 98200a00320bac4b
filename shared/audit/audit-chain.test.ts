import { describe, expect, it } from 'vitest';
import { chainEntry, checkLine, GENESIS, parseRecord, sha256Hex, type ChainHead, type VerifyState } from './audit-chain.js';

function chain(n: number): string[] {
  const lines: string[] = [];
  let head: ChainHead | null = null;
  for (let i = 0; i < n; i++) {
    const e = chainEntry({ userId: `u-${i}`, action: 'case.read', caseId: `c-${i}`, ip: '127.0.0.1' }, head, new Date(Date.UTC(2026, 11, 1, 10, 0, i)));
    lines.push(e.text);
    head = e.head;
  }
  return lines;
}

function verify(lines: string[]) {
  let state: VerifyState = { head: null, place: null, entries: 0 };
  for (const [i, text] of lines.entries()) {
    const r = checkLine(state, { file: 'audit-2026-12-01.jsonl', line: i + 1 }, text);
    if ('broken' in r) return r.broken;
    state = r.state;
  }
  return state;
}

describe('the audit hash chain', () => {
  it('starts at the genesis and carries the SHA-256 of the previous line in each entry', () => {
    const [a, b] = chain(2);
    expect(parseRecord(a!)).toMatchObject({ seq: 1, prev: GENESIS, userId: 'u-0', caseId: 'c-0' });
    expect(parseRecord(b!)).toMatchObject({ seq: 2, prev: sha256Hex(a!) });
  });

  it('verifies a whole chain', () => {
    expect(verify(chain(10))).toMatchObject({ entries: 10, head: { seq: 10 } });
  });

  it('names the altered line when an entry is changed', () => {
    const lines = chain(10);
    lines[4] = lines[4]!.replace('"u-4"', '"u-evil"');
    expect(verify(lines)).toMatchObject({ line: 5, problem: expect.stringContaining('altered') });
  });

  it('names the line where entries are missing when one is deleted', () => {
    const lines = chain(10);
    lines.splice(6, 1);
    expect(verify(lines)).toMatchObject({ line: 7, problem: 'entry 7 is missing before this line (deleted)' });
  });

  it('refuses a line that is not an entry, and a chain that does not start at its genesis', () => {
    const lines = chain(5);
    expect(verify([...lines.slice(0, 2), '{"seq":3', ...lines.slice(3)])).toMatchObject({ line: 3, problem: expect.stringContaining('not an audit entry') });
    expect(verify(lines.slice(2))).toMatchObject({ line: 1, problem: expect.stringContaining('does not start here') });
  });

  it('refuses an entry inserted or repeated', () => {
    const lines = chain(5);
    expect(verify([...lines.slice(0, 3), lines[1]!, ...lines.slice(3)])).toMatchObject({ line: 4, problem: expect.stringContaining('inserted or repeated') });
  });
});
