/**
 * CPT code selection for the ILD chest-CT analysis family.
 *
 * Source: AMA CPT Category III codes 0877T–0880T (released July 2024, effective 2025-01-01). The
 * descriptors below are PARAPHRASED, as docs/design.md §5 "Billing" does: the AMA text is copyrighted and
 * must be confirmed against the AMA Category III file of the year in use before go-live.
 *   0877T  augmentative analysis of chest CT imaging data to classify ILD, on a previously acquired
 *          CT (no concurrent CT examination)
 *   0878T  the same, obtained with a concurrent CT examination of the same structure; an add-on code,
 *          reported in addition to the primary CT code (71250, 71260, 71270, 71271)
 *   0879T  the same analysis, radiological data preparation and transmission (technical part)
 *   0880T  the same analysis, physician or other QHP interpretation and report (professional part)
 */
import { ChargeNotBuildable } from './errors.js';
import { calendarDateOf, toCalendarDate } from './dates.js';

export const ILD_CODES = ['0877T', '0878T', '0879T', '0880T'] as const;
export type IldCode = (typeof ILD_CODES)[number];

/** `global`: one entity bills the whole analysis; `split`: technical and professional parts billed apart. */
export type BillingMode = 'global' | 'split';

/** Which part of the service a line stands for; decides which lines a physician's 52/22 goes on. */
export type ServiceComponent = 'global' | 'technical' | 'professional';

/** The chest CT codes 0878T is an add-on to (CPT 2025: CT thorax without, with, without-and-with contrast; CTA). */
export const PRIMARY_CT_CODES = ['71250', '71260', '71270', '71271'] as const;

export const CODE_DESCRIPTIONS: Readonly<Record<IldCode, string>> = {
  '0877T': 'Augmentative analysis of a previously acquired chest CT to classify interstitial lung disease',
  '0878T':
    'Augmentative analysis of a concurrently acquired chest CT to classify interstitial lung disease (add-on to the CT code)',
  '0879T': 'ILD classification analysis of chest CT: radiological data preparation and transmission',
  '0880T': 'ILD classification analysis of chest CT: physician interpretation and report',
};

export type SelectedLine = Readonly<{
  code: IldCode;
  /** One charge per analysed study (docs/design.md §5): never more than 1 unit. */
  units: 1;
  description: string;
  component: ServiceComponent;
  notes: readonly string[];
}>;

export type SelectCodesInput = Readonly<{
  mode: BillingMode;
  /** When the analysed CT was acquired: ISO YYYY-MM-DD or DICOM DA YYYYMMDD. */
  ctAcquiredDate: string;
  /** The order's encounter date (YYYY-MM-DD); defaults to the calendar date of `orderedAt`. */
  encounterDate?: string;
  /** ISO 8601 date-time of the order; its date is read in the offset it was written with. */
  orderedAt: string;
}>;

export type CtTiming = 'prior' | 'concurrent';

const CONCURRENT_CT_NOTE =
  `The chest CT was acquired in the same encounter: the primary CT code (${PRIMARY_CT_CODES.join('/')}) ` +
  'is reported separately by whoever performed the CT; ildflow does not bill it.';
const ADD_ON_NOTE = '0878T is an add-on code: it is paid only on the same claim as the primary CT code.';

/**
 * Whether the analysed CT is a prior CT (acquired before the encounter) or a concurrent one (same
 * encounter date). Throws `ChargeNotBuildable` when a date is unreadable or the CT is dated after the
 * encounter: neither code can then be justified, and guessing would put a wrong code on a claim.
 */
export function ctTiming(input: Omit<SelectCodesInput, 'mode'>): CtTiming {
  const reasons: string[] = [];
  const ct = toCalendarDate(input.ctAcquiredDate);
  if (!ct) reasons.push(`CT acquisition date "${input.ctAcquiredDate}" is not a calendar date`);
  const encounter = input.encounterDate ? toCalendarDate(input.encounterDate) : calendarDateOf(input.orderedAt);
  if (!encounter)
    reasons.push(
      input.encounterDate
        ? `encounter date "${input.encounterDate}" is not a calendar date`
        : `order time "${input.orderedAt}" is not an ISO date-time`,
    );
  if (!ct || !encounter) throw new ChargeNotBuildable(reasons);
  // Same-format YYYY-MM-DD strings compare in calendar order.
  if (ct < encounter) return 'prior';
  if (ct === encounter) return 'concurrent';
  throw new ChargeNotBuildable([
    `the CT (${ct}) was acquired after the order's encounter (${encounter}): it is neither a prior CT (0877T) ` +
      'nor provably part of the same encounter (0878T); code this case manually',
  ]);
}

function line(code: IldCode, component: ServiceComponent, notes: readonly string[] = []): SelectedLine {
  return { code, units: 1, description: CODE_DESCRIPTIONS[code], component, notes };
}

/**
 * The CPT lines for one analysed study.
 * - global + prior CT      → 0877T
 * - global + concurrent CT → 0878T, noting that the primary CT code is reported separately
 * - split (either timing)  → 0879T (technical) + 0880T (professional)
 *
 * Split mode with a concurrent CT (docs/design.md is silent): still 0879T + 0880T. Those two codes describe
 * the parts of the analysis, whatever the CT's timing; the concurrent CT is a separate service with its
 * own code, so both lines carry the note that the CT code is reported separately. 0878T is not added:
 * that would bill the same analysis twice. Confirm with the AMA parentheticals for 0879T/0880T.
 */
export function selectCodes(input: SelectCodesInput): SelectedLine[] {
  const timing = ctTiming(input);
  const timingNotes = timing === 'concurrent' ? [CONCURRENT_CT_NOTE] : [];
  if (input.mode === 'split') {
    return [line('0879T', 'technical', timingNotes), line('0880T', 'professional', timingNotes)];
  }
  return timing === 'prior' ? [line('0877T', 'global')] : [line('0878T', 'global', [CONCURRENT_CT_NOTE, ADD_ON_NOTE])];
}
