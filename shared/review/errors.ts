/**
 * Review-specific conflicts. Both are 409 (RFC 9110 §15.5.10): the request is well formed, but the case's
 * current state does not allow it; the client can re-read the case and try again.
 */
import { AppError } from '../errors.js';

/** The caller's own lease ran out: signing on an expired lease could race a colleague who claimed it since. */
export class LeaseExpired extends AppError {
  readonly status = 409;
  readonly slug = 'lease-expired';
  readonly title = 'Your claim on this case has expired';
}
