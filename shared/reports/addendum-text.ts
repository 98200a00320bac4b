/**
 * How every report (PDF, FHIR DiagnosticReport, SR) words an addendum, so they agree. An addendum that
 * changes the decision is a signature of its own (docs/design.md §6): it names its signer by NPI, its time and
 * its attestation, never the first signer's.
 */
import type { Review } from '../domain/case.js';
import { CATEGORY_TEXT } from './category-text.js';

type Addendum = Review['addenda'][number];

/** "Addendum <time> by <name>[, NPI <npi>][ (amend to <category>, signed)]: <text>", then its attestation, if any. */
export function addendumLines(a: Addendum): string[] {
  const change = a.decision ? ` (${a.decision}${a.classification ? ` to ${CATEGORY_TEXT[a.classification.category]}` : ''}, signed)` : '';
  const head = `Addendum ${a.at} by ${a.by.name}${a.by.npi ? `, NPI ${a.by.npi}` : ''}${change}: ${a.text}`;
  return a.attestationText ? [head, `Attestation: ${a.attestationText}`] : [head];
}

/** The addenda that changed the decision: each a signature, its signer a results interpreter. */
export const signedAddenda = (r: Review): Addendum[] => r.addenda.filter((a) => a.decision !== undefined && a.by.npi !== '');
