import { describe, expect, it } from 'vitest';
import { isValidNpi } from './npi.js';
import { isIcd10CmFormat } from './icd10.js';

describe('isValidNpi', () => {
  it.each([
    ['1234567893', true], // CMS's worked example
    ['1245319599', true],
    ['1234567890', false],
    ['123456789', false],
    ['12345678931', false],
    ['abcdefghij', false],
  ])('%s → %s', (npi, ok) => expect(isValidNpi(npi)).toBe(ok));
});

describe('isIcd10CmFormat', () => {
  it.each([
    ['J84.10', true],
    ['R06.00', true],
    ['R05', true],
    ['J84.112', true],
    ['U07.1', true], // U codes are used for emergencies (COVID-19)
    ['j84.10', false],
    ['J8', false],
    ['J84.', false],
    ['J84.10000', false],
  ])('%s → %s', (code, ok) => expect(isIcd10CmFormat(code)).toBe(ok));
});
