/**
 * Billing's typed error. Every reason a charge cannot be built is collected before throwing, so the
 * case's failure record (and the operator reading it) sees all of them at once, not one per retry.
 */
import { ReasonsError } from '../errors.js';

/**
 * A charge (or reversal) cannot be built from this case: a required piece is missing or contradicts
 * another. Not retryable: the same case data gives the same answer, so the worker must fail the case
 * with these reasons (BullMQ `UnrecoverableError`) rather than retry.
 */
export class ChargeNotBuildable extends ReasonsError {
  readonly status = 422;
  readonly slug = 'charge-not-buildable';
  readonly title = 'A charge cannot be built for this case';
}
