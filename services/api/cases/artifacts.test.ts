import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactPath } from './artifacts.js';

describe('artifactPath', () => {
  it('resolves a plain name inside the case artifact folder', () => {
    expect(artifactPath('/data', 'c-1', 'report.pdf')).toBe(path.resolve('/data/cases/c-1/artifacts/report.pdf'));
  });
  it.each(['..', '.', '../x', '..%2Fx', 'a/b', 'a\\b', '', '.hidden', 'x'.repeat(200)])('refuses %j', (name) => {
    expect(artifactPath('/data', 'c-1', name)).toBeNull();
  });
  it('refuses a case id that could climb out', () => {
    expect(artifactPath('/data', '..', 'report.pdf')).toBeNull();
  });
});
