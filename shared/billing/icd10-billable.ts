/**
 * Is an ICD-10-CM code billable? Only a complete code (a leaf of the tabular list) can go on a claim;
 * a category or subcategory header with children (R05 since FY2022, J84.1, J84.11…) is refused.
 *
 * The table below is PARTIAL: it covers the categories an ILD analysis order usually carries
 * (cough, dyspnea, ILD, emphysema/COPD, hypersensitivity pneumonitis, systemic sclerosis, abnormal lung
 * imaging, other lung disorders), as of the FY2024–FY2025 ICD-10-CM tabular list (CMS/NCHS). A code
 * outside these categories passes the format check but is reported as `unverified`: the billing system's
 * full code-set edit must still run. Update the table each October with the new fiscal-year release.
 */
import { isIcd10CmFormat } from '../codes/icd10.js';

/** Header → its direct children (both billable leaves and further headers). */
const HEADERS: Readonly<Record<string, readonly string[]>> = {
  // Cough: a header since FY2022 (2021-10-01); R05 alone is no longer billable.
  R05: ['R05.1', 'R05.2', 'R05.3', 'R05.4', 'R05.8', 'R05.9'],
  R06: ['R06.0', 'R06.1', 'R06.2', 'R06.3', 'R06.4', 'R06.5', 'R06.6', 'R06.7', 'R06.8', 'R06.9'],
  'R06.0': ['R06.00', 'R06.01', 'R06.02', 'R06.03', 'R06.09'],
  'R06.8': ['R06.81', 'R06.82', 'R06.83', 'R06.89'],
  R91: ['R91.1', 'R91.8'],
  J43: ['J43.0', 'J43.1', 'J43.2', 'J43.8', 'J43.9'],
  J44: ['J44.0', 'J44.1', 'J44.8', 'J44.9'],
  // J44.8 became a header in FY2024 (2023-10-01).
  'J44.8': ['J44.81', 'J44.89'],
  J67: ['J67.0', 'J67.1', 'J67.2', 'J67.3', 'J67.4', 'J67.5', 'J67.6', 'J67.7', 'J67.8', 'J67.9'],
  J84: ['J84.0', 'J84.1', 'J84.2', 'J84.8', 'J84.9'],
  'J84.0': ['J84.01', 'J84.02', 'J84.03', 'J84.09'],
  'J84.1': ['J84.10', 'J84.11', 'J84.17'],
  'J84.11': ['J84.111', 'J84.112', 'J84.113', 'J84.114', 'J84.115', 'J84.116', 'J84.117'],
  // J84.17 became a header in FY2023 (2022-10-01).
  'J84.17': ['J84.170', 'J84.178'],
  'J84.8': ['J84.81', 'J84.82', 'J84.83', 'J84.84', 'J84.89'],
  'J84.84': ['J84.841', 'J84.842', 'J84.843', 'J84.848'],
  // J98.4 "Other disorders of lung" is a billable leaf, not a header.
  J98: ['J98.0', 'J98.1', 'J98.2', 'J98.3', 'J98.4', 'J98.5', 'J98.6', 'J98.8', 'J98.9'],
  'J98.0': ['J98.01', 'J98.09'],
  'J98.1': ['J98.11', 'J98.19'],
  'J98.5': ['J98.51', 'J98.59'],
  M34: ['M34.0', 'M34.1', 'M34.2', 'M34.8', 'M34.9'],
  'M34.8': ['M34.81', 'M34.82', 'M34.83', 'M34.89'],
};

const KNOWN_LEAVES: ReadonlySet<string> = new Set(
  Object.values(HEADERS)
    .flat()
    .filter((c) => !(c in HEADERS)),
);

/** The code one level up the tabular list: J84.112 → J84.11 → J84.1 → J84 → none. */
function parentOf(code: string): string | undefined {
  const dot = code.indexOf('.');
  if (dot < 0) return undefined;
  return code.length - dot > 2 ? code.slice(0, -1) : code.slice(0, dot);
}

function leavesUnder(header: string): string[] {
  return (HEADERS[header] ?? []).flatMap((c) => (c in HEADERS ? leavesUnder(c) : [c]));
}

export type DiagnosisCheck = Readonly<{
  ok: boolean;
  problems: string[];
  /** Well-formed codes outside the partial table: not known to be wrong, not confirmed billable either. */
  unverified: string[];
}>;

/** Checks the diagnoses for a claim: ICD-10-CM format, no headers, no codes that do not exist under a known header, no duplicates. */
export function checkDiagnoses(codes: readonly string[]): DiagnosisCheck {
  const problems: string[] = [];
  const unverified: string[] = [];
  if (codes.length === 0) problems.push('at least one ICD-10-CM diagnosis is required');
  const seen = new Set<string>();
  for (const code of codes) {
    if (seen.has(code)) {
      problems.push(`${code} is listed twice`);
      continue;
    }
    seen.add(code);
    if (!isIcd10CmFormat(code)) {
      problems.push(`${code} is not an ICD-10-CM code`);
      continue;
    }
    if (code in HEADERS) {
      problems.push(`${code} is a category header, not billable: use one of ${leavesUnder(code).join(', ')}`);
      continue;
    }
    if (KNOWN_LEAVES.has(code)) continue;
    // Not listed: find the nearest listed ancestor. Under a known header, an unlisted code does not
    // exist (e.g. R05.5); under a known leaf it over-extends a complete code (e.g. J84.101).
    let ancestor = parentOf(code);
    while (ancestor && !(ancestor in HEADERS) && !KNOWN_LEAVES.has(ancestor)) ancestor = parentOf(ancestor);
    if (ancestor && ancestor in HEADERS) problems.push(`${code} does not exist under ${ancestor}`);
    else if (ancestor) problems.push(`${code} does not exist: ${ancestor} is already a complete code`);
    else unverified.push(code);
  }
  return { ok: problems.length === 0, problems, unverified };
}
