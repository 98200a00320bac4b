/**
 * ICD-10-CM code shape (CMS/NCHS ICD-10-CM Official Guidelines, Section I.A): a letter, a digit, an
 * alphanumeric, then optionally a dot and 1–4 alphanumerics (7th character placeholders 'X' included).
 * Whether a code is billable (a leaf, not a category header such as R05) is checked in shared/billing.
 */
const ICD10_CM = /^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$/;

export function isIcd10CmFormat(code: string): boolean {
  return ICD10_CM.test(code);
}
