/**
 * Errors of the PACS adapters beyond PacsUnavailable (shared/errors.ts, retryable). A refusal that a retry
 * cannot fix — wrong credentials (HTTP 401/403, an A-ASSOCIATE-RJ naming our AE title), a request the PACS
 * calls malformed — is not retried by BullMQ: the adapter has already tried a bounded number of times, and
 * the case fails at once with a reason that says what to fix (docs/design.md §7 "fails clearly").
 */
import { AppError } from '../errors.js';

export class PacsRefused extends AppError {
  readonly status = 502;
  readonly slug = 'pacs-refused';
  readonly title = 'PACS refused the request';
}

/**
 * A query matched more than ildflow reads (docs/pacs.md, "Query bounds"): choosing a prior CT from a cut
 * list could pick the wrong study, so the case fails saying so instead. Not retried: the PACS will match as
 * many next time.
 */
export class TooManyMatches extends AppError {
  readonly status = 502;
  readonly slug = 'pacs-too-many-matches';
  readonly title = 'The PACS has more matches than ildflow reads';
}

/**
 * A value that DICOM matching cannot take exactly: `*` and `?` are wildcards (PS3.4 C.2.2.2.4) and `\` the
 * value-multiplicity delimiter (PS3.5 §6.4), with no escape for any of them. Orders refuse such values (400);
 * this guards the sources against anything stored before.
 */
export class UnmatchableQuery extends AppError {
  readonly status = 400;
  readonly slug = 'unmatchable-query';
  readonly title = 'A query value cannot be matched exactly';
}
