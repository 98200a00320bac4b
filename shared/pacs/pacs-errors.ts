/**
 * Errors of the PACS adapters beyond PacsUnavailable (shared/errors.ts, retryable). A refusal that a retry
 * cannot fix — wrong credentials (HTTP 401/403, an A-ASSOCIATE-RJ naming our AE title), a request the PACS
 * calls malformed — is not retried by BullMQ: the adapter has already tried a bounded number of times, and
 * the case fails at once with a reason that says what to fix (DESIGN.md §7 "fails clearly").
 */
import { AppError } from '../errors.js';

export class PacsRefused extends AppError {
  readonly status = 502;
  readonly slug = 'pacs-refused';
  readonly title = 'PACS refused the request';
}
