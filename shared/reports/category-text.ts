import type { Category } from '../engines/contract.js';

/** Category display text, after the 2018 ATS/ERS/JRS/ALAT guideline's CT pattern names. */
export const CATEGORY_TEXT: Readonly<Record<Category, string>> = {
  uip: 'UIP pattern',
  probable_uip: 'Probable UIP pattern',
  indeterminate: 'Indeterminate for UIP',
  alternative_diagnosis: 'CT features most consistent with an alternative diagnosis',
  no_fibrosis: 'No fibrotic lung disease detected',
};
