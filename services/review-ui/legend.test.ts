import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LABEL_CLASSES } from '../../shared/engines/label-classes.js';
import { publicDir } from './serve.js';

const hex = (rgb: readonly number[]) => `#${rgb.map((n) => n.toString(16).padStart(2, '0')).join('')}`;

describe('the review page', () => {
  it('shows the same overlay legend as the server renders (the one vocabulary, shared/engines/label-classes.ts)', async () => {
    const app = await readFile(`${publicDir()}app.js`, 'utf8');
    const block = /export const LEGEND = \[([\s\S]*?)\];/.exec(app)?.[1] ?? '';
    const pairs = [...block.matchAll(/\['([^']+)', '(#[0-9a-f]{6})'\]/g)].map((m) => [m[1], m[2]]);
    expect(pairs).toEqual(LABEL_CLASSES.flatMap((l) => (l.rgb ? [[l.label, hex(l.rgb)]] : [])));
  });

  it('puts no inline script or style in the page (the CSP allows only its own files)', async () => {
    const html = await readFile(`${publicDir()}index.html`, 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle="/);
    expect(html).not.toMatch(/\son[a-z]+="/);
  });
});
