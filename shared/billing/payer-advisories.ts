/**
 * Payer advisories for the 0877T–0880T family (docs/design.md §5 "Billing"). The policy text is data, not
 * code: a billing team overrides it with its own reviewed table (validate it with `PayerAdvisoryTable`).
 *
 * The default reflects what docs/design.md states, not a fresh policy review: payer policies change every
 * quarter, and the table must be re-checked against each payer's published medical policy (and the
 * MAC's LCD list for Medicare) before it is relied on.
 */
import { z } from 'zod';
import { Payer, type Coverage } from '../domain/case.js';

export const PayerPolicy = z.object({
  /** Shown to the orderer when the case is created and carried on the charge. */
  advisories: z.array(z.string().trim().min(1)),
  /**
   * The payer is expected to deny the lines (no coverage policy, or "experimental" by default). For
   * Medicare this decides GZ when no ABN is signed (see modifiers.ts).
   */
  denialExpected: z.boolean(),
});
export type PayerPolicy = z.infer<typeof PayerPolicy>;

/** Every payer of `Payer` must have an entry: a missing one is a configuration error, not a silent default. */
export const PayerAdvisoryTable = z.record(Payer, PayerPolicy);
export type PayerAdvisoryTable = z.infer<typeof PayerAdvisoryTable>;

const CODES = '0877T–0880T';
const EXPERIMENTAL = (plan: string) =>
  `${plan}: Category III codes are treated as experimental/investigational unless a specific medical policy ` +
  `covers them; no policy covering ${CODES} is on file. Obtain prior authorization, or expect denial.`;

export const DEFAULT_PAYER_ADVISORIES: PayerAdvisoryTable = {
  medicare: {
    advisories: [
      `Medicare: no NCD or LCD covers ${CODES}. Category III codes are contractor-priced: the MAC decides ` +
        'coverage and payment claim by claim. Give the beneficiary an ABN (CMS-R-131) before the service.',
      'Medicare Advantage plans follow their own policies and do not use the ABN: record them as "other".',
    ],
    denialExpected: true,
  },
  uhc: { advisories: [EXPERIMENTAL('UnitedHealthcare')], denialExpected: true },
  cigna: { advisories: [EXPERIMENTAL('Cigna')], denialExpected: true },
  bcbs: {
    advisories: [EXPERIMENTAL('BCBS (policies vary by plan; check the member’s plan)')],
    denialExpected: true,
  },
  aetna: {
    advisories: [`Aetna: no published position on ${CODES} found. Verify coverage and prior authorization with the plan.`],
    denialExpected: false,
  },
  'self-pay': {
    advisories: [
      'Self-pay: no claim goes to a payer. Give the patient a good-faith estimate before the service ' +
        '(No Surprises Act, 45 CFR 149.610).',
    ],
    denialExpected: false,
  },
  other: {
    advisories: [
      `Payer not in the table: verify coverage and prior authorization for ${CODES} with the plan; many plans ` +
        'treat Category III codes as experimental.',
    ],
    denialExpected: false,
  },
};

/**
 * Parses a payer advisory table from JSON text (the file named by ILDFLOW_PAYER_ADVISORIES_FILE). Every
 * payer must be present; every problem is listed.
 */
export function parsePayerAdvisoryTable(text: string): { ok: true; table: PayerAdvisoryTable } | { ok: false; problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, problems: [`not JSON: ${(err as Error).message}`] };
  }
  const r = PayerAdvisoryTable.safeParse(json);
  if (r.success) return { ok: true, table: r.data };
  return { ok: false, problems: r.error.issues.map((i) => `${i.path.join('.') || '(table)'}: ${i.message}`) };
}

export type PayerAdvice = Readonly<{ advisories: string[]; denialExpected: boolean }>;

/**
 * The advisories for a coverage: the payer's entry from the table, plus notes about the ABN and the
 * member id that depend on this patient's coverage rather than on the payer.
 */
export function advisoriesFor(coverage: Coverage, table: PayerAdvisoryTable = DEFAULT_PAYER_ADVISORIES): PayerAdvice {
  const policy = table[coverage.payer];
  const advisories = [...policy.advisories];
  const abnSigned = coverage.abn?.signed === true;

  if (coverage.payer === 'medicare') {
    if (abnSigned) {
      advisories.push(
        `Signed ABN (CMS-R-131) on file${coverage.abn?.signedAt ? ` dated ${coverage.abn.signedAt}` : ''}: lines carry GA.`,
      );
    } else if (policy.denialExpected) {
      advisories.push(
        'No signed ABN on file: lines carry GZ, Medicare denies them automatically, and the provider (not the ' +
          'beneficiary) is liable. Obtain a signed CMS-R-131 before the service.',
      );
    }
  } else if (coverage.abn) {
    advisories.push(`An ABN (CMS-R-131) applies to Original Medicare only; it has no effect for ${coverage.payer}.`);
  }

  if (coverage.payer !== 'self-pay' && !coverage.memberId) {
    advisories.push('No member id on file: the claim cannot be submitted until coverage is completed.');
  }
  return { advisories, denialExpected: policy.denialExpected };
}
