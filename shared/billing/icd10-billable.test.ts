import { describe, expect, it } from 'vitest';
import { checkDiagnoses } from './icd10-billable.js';

describe('checkDiagnoses', () => {
  it.each([
    'R05.1', 'R05.2', 'R05.3', 'R05.4', 'R05.8', 'R05.9',
    'J84.10', 'J84.112', 'J84.116', 'J84.170', 'J84.178', 'J84.2', 'J84.89', 'J84.9',
    'R06.00', 'R06.02', 'R06.09', 'R06.2', 'J43.9', 'J44.9', 'J44.89', 'J98.4', 'J67.9', 'M34.81', 'R91.8',
  ])('accepts the billable code %s', (code) => {
    expect(checkDiagnoses([code])).toEqual({ ok: true, problems: [], unverified: [] });
  });

  it.each([
    'R05', 'R06', 'R06.0', 'R06.8', 'J84', 'J84.0', 'J84.1', 'J84.11', 'J84.17', 'J84.8', 'J84.84',
    'J43', 'J44', 'J44.8', 'J67', 'J98', 'R91', 'M34', 'M34.8',
  ])('refuses the category header %s', (code) => {
    const r = checkDiagnoses([code]);
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(new RegExp(`^${code.replace('.', '\\.')} is a category header`));
  });

  it('names the billable codes under a refused header', () => {
    expect(checkDiagnoses(['R05']).problems[0]).toContain('R05.1, R05.2, R05.3, R05.4, R05.8, R05.9');
  });

  it.each([
    ['R05.5', /does not exist under R05/],
    ['J84.118', /does not exist under J84.11/],
    ['J84.101', /J84.10 is already a complete code/],
    ['J98.41', /J98.4 is already a complete code/],
    ['r05.1', /not an ICD-10-CM code/],
    ['J8410', /not an ICD-10-CM code/],
    ['', /not an ICD-10-CM code/],
  ])('refuses %s', (code, message) => {
    const r = checkDiagnoses([code]);
    expect(r.ok).toBe(false);
    expect(r.problems.join('; ')).toMatch(message);
  });

  it('passes a well-formed code outside its table as unverified, not as confirmed', () => {
    expect(checkDiagnoses(['J84.10', 'D86.0'])).toEqual({ ok: true, problems: [], unverified: ['D86.0'] });
  });

  it.each<[string[], RegExp]>([
    [[], /at least one/],
    [['J84.10', 'J84.10'], /listed twice/],
  ])('refuses the list %j', (codes, message) => {
    const r = checkDiagnoses(codes);
    expect(r.ok).toBe(false);
    expect(r.problems.join('; ')).toMatch(message);
  });

  it('reports every problem in one pass', () => {
    expect(checkDiagnoses(['R05', 'J84.1', 'x', 'R06.00']).problems).toHaveLength(3);
  });
});
