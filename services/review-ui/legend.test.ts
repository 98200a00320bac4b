import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LABEL_CLASSES } from '../../shared/engines/label-classes.js';
import { publicDir } from './serve.js';

const hex = (rgb: readonly number[]) => `#${rgb.map((n) => n.toString(16).padStart(2, '0')).join('')}`;

describe('the review page', () => {
  it('keeps no copy of the vocabulary: labels and colours come from the API (the one table, shared/engines/label-classes.ts)', async () => {
    for (const file of ['app.js', 'dom.js', 'viewer.js', 'viewer-render.js']) {
      const js = await readFile(`${publicDir()}${file}`, 'utf8');
      for (const c of LABEL_CLASSES) {
        expect(js, `${file}: ${c.label}`).not.toContain(`'${c.label}'`);
        if (c.rgb) expect(js.toLowerCase(), `${file}: ${c.key}`).not.toContain(hex(c.rgb));
      }
    }
  });

  it('puts no inline script or style in the page (the CSP allows only its own files)', async () => {
    const html = await readFile(`${publicDir()}index.html`, 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle="/);
    expect(html).not.toMatch(/\son[a-z]+="/);
  });
});
