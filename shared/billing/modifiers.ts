/**
 * CPT/HCPCS modifiers for an ILD analysis line (docs/design.md §5 "Billing").
 *
 * - GA  "waiver of liability statement (ABN) issued as required by payer policy" — Original Medicare,
 *       signed ABN (CMS-R-131) on file. CMS Medicare Claims Processing Manual (Pub. 100-04), ch. 30
 *       "Financial Liability Protections".
 * - GZ  "item or service expected to be denied as not reasonable and necessary" — Medicare, denial
 *       expected, no valid ABN. Medicare denies GZ lines automatically; the provider is liable.
 * - GY  "statutorily excluded" — never chosen here (an ILD analysis is not statutorily excluded), and
 *       GA, GY, GZ are mutually exclusive on a line: `liabilityConflicts` is the guard.
 * - 52 / 22 reduced / increased service — only from the physician's review, which carries the reason.
 * - 59 / XU (distinct procedural service) — never added automatically: they bypass NCCI edits and are
 *       an audit target when unsupported; a coder adds them with documentation, outside ildflow.
 * - 26 / TC are not used: 0879T/0880T already are the technical and professional parts.
 */
import type { Payer } from '../domain/case.js';
import type { ServiceComponent } from './select-codes.js';

export const LIABILITY_MODIFIERS = ['GA', 'GY', 'GZ'] as const;

export type ModifierInput = Readonly<{
  payer: Payer;
  abn?: Readonly<{ signed: boolean; signedAt?: string }>;
  /** From the payer advisory table (payer-advisories.ts). */
  denialExpected: boolean;
  /** The physician's 52 or 22 with the reason, from the signed review. */
  serviceModifier?: Readonly<{ code: '52' | '22'; reason: string }>;
  /** Which part of the service the line bills (select-codes.ts). */
  component: ServiceComponent;
  /** YYYY-MM-DD. An ABN must be signed before the service: one dated after it does not count. */
  dateOfService?: string;
}>;

export type ModifierSelection = Readonly<{ modifiers: string[]; notes: string[] }>;

/**
 * The modifiers for one line, in claim order: the pricing modifier (52/22) first, then the
 * informational liability modifier (GA/GZ): payers price on the first modifier position.
 */
export function selectModifiers(input: ModifierInput): ModifierSelection {
  const modifiers: string[] = [];
  const notes: string[] = [];

  // The physician's modifier describes the physician's work, so it goes on the line the physician
  // bills: the global line, or in split mode the professional (0880T) line, never the technical one.
  if (input.serviceModifier && input.component !== 'technical') {
    modifiers.push(input.serviceModifier.code);
    notes.push(`Modifier ${input.serviceModifier.code}: ${input.serviceModifier.reason}`);
  }

  if (input.payer === 'medicare') {
    const abn = input.abn;
    let abnValid = abn?.signed === true;
    if (abn?.signed && abn.signedAt && input.dateOfService && abn.signedAt > input.dateOfService) {
      abnValid = false;
      notes.push(`ABN signed ${abn.signedAt}, after the date of service ${input.dateOfService}: it does not count.`);
    }
    if (abn?.signed && !abn.signedAt) notes.push('ABN marked signed without a date: keep the dated CMS-R-131 on file.');
    if (abnValid) modifiers.push('GA');
    else if (input.denialExpected) modifiers.push('GZ');
  }
  return { modifiers, notes };
}

/** Problems with a modifier list: more than one of GA/GY/GZ, or more than the four a claim line holds. */
export function liabilityConflicts(modifiers: readonly string[]): string[] {
  const problems: string[] = [];
  const liability = modifiers.filter((m) => (LIABILITY_MODIFIERS as readonly string[]).includes(m));
  if (liability.length > 1) problems.push(`GA, GY and GZ are mutually exclusive, got ${liability.join('+')}`);
  if (modifiers.length > 4) problems.push(`a claim line holds at most 4 modifiers, got ${modifiers.length}`);
  return problems;
}
