import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EXTENT_ORDER } from '../../shared/engines/label-classes.js';
import { publicDir } from './serve.js';

const hex = (rgb: readonly number[]) => `#${rgb.map((n) => n.toString(16).padStart(2, '0')).join('')}`;

describe('the review page', () => {
  it('names and colours the classes as the server does (the one vocabulary, shared/engines/label-classes.ts)', async () => {
    const app = await readFile(`${publicDir()}app.js`, 'utf8');
    const block = /export const CLASSES = \[([\s\S]*?)\n\];/.exec(app)?.[1] ?? '';
    const rows = [...block.matchAll(/\['(\w+)', '([^']+)', (?:'(#[0-9a-f]{6})'|null)\]/g)].map((m) => [m[1], m[2], m[3] ?? null]);
    expect(rows).toEqual(EXTENT_ORDER.map((l) => [l.key, l.label, l.rgb ? hex(l.rgb) : null]));
  });

  it('puts no inline script or style in the page (the CSP allows only its own files)', async () => {
    const html = await readFile(`${publicDir()}index.html`, 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle="/);
    expect(html).not.toMatch(/\son[a-z]+="/);
  });
});
