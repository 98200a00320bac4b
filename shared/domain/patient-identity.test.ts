import { describe, expect, it } from 'vitest';
import type { Patient } from './case.js';
import { compareIdentifiers, describeDiffers, familyNameKey } from './patient-identity.js';

const ORDER: Patient = { id: 'MRN-001', name: "O'BRIEN-NÚÑEZ^María José", birthDate: '1961-04-02', sex: 'F' };

describe('familyNameKey', () => {
  it.each([
    ["O'Brien-Núñez^Maria", 'obriennunez'],
    ['OBRIEN NUNEZ', 'obriennunez'],
    ['o’brien‐nuñez^^^Dr', 'obriennunez'],
    ['Müller^Hans=ミュラー^ハンス', 'muller'],
    ['Øster-Łukasz', 'osterlukasz'],
    ['Straße', 'strasse'],
    ['^Jane', ''],
    ['', ''],
  ])('reads the family name of %j as %j', (name, key) => {
    expect(familyNameKey(name)).toBe(key);
  });
});

describe('compareIdentifiers', () => {
  it('agrees when the MRN, the birth date (DA or ISO) and the family name agree, whatever the case, accents and punctuation', () => {
    expect(compareIdentifiers(ORDER, { patientId: 'MRN-001', patientName: 'OBRIEN NUNEZ^MARIA', birthDate: '19610402' })).toEqual({ agree: true });
  });

  it('skips the family name where the study carries none', () => {
    expect(compareIdentifiers(ORDER, { patientId: 'MRN-001', patientName: '', birthDate: '19610402' })).toEqual({ agree: true });
    expect(compareIdentifiers(ORDER, { patientId: 'MRN-001', birthDate: '1961-04-02' })).toEqual({ agree: true });
  });

  it('names the birth date and the family name when the MRN matches but the patient is another', () => {
    expect(compareIdentifiers(ORDER, { patientId: 'MRN-001', patientName: 'SMITH^JOHN', birthDate: '19480101' })).toEqual({ agree: false, differs: ['birthDate', 'familyName'] });
  });

  it('refuses a study without a birth date: one identifier is not two', () => {
    expect(compareIdentifiers(ORDER, { patientId: 'MRN-001', patientName: "O'Brien-Nunez" })).toEqual({ agree: false, differs: ['birthDate'] });
    expect(compareIdentifiers(ORDER, { patientId: 'MRN-001', birthDate: '1961' })).toEqual({ agree: false, differs: ['birthDate'] });
  });

  it('names the patient ID when it differs', () => {
    expect(compareIdentifiers(ORDER, { patientId: 'MRN-002', birthDate: '19610402' })).toEqual({ agree: false, differs: ['patientId'] });
  });
});

describe('describeDiffers', () => {
  it('names the identifiers, never their values', () => {
    expect(describeDiffers(['birthDate'])).toBe('birth date');
    expect(describeDiffers(['patientId', 'birthDate', 'familyName'])).toBe('patient ID, birth date and family name');
  });
});
