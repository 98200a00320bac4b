/**
 * Typed application errors. Each carries the RFC 9457 problem fields; services/api/problem.ts is the one
 * place that turns them into `application/problem+json`, and workers turn non-retryable ones into BullMQ's
 * UnrecoverableError so they are not retried.
 */
const TYPE_BASE = 'https://ildflow.dev/problems/';

export type FieldError = Readonly<{ path: string; message: string }>;

export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly slug: string;
  abstract readonly title: string;
  /** Retrying the same operation later may succeed (PACS down, engine busy). */
  readonly retryable: boolean;
  constructor(
    readonly detail: string,
    options?: ErrorOptions & { retryable?: boolean },
  ) {
    super(detail, options);
    this.name = new.target.name;
    this.retryable = options?.retryable ?? false;
  }
  get type(): string {
    return TYPE_BASE + this.slug;
  }
}

export class ValidationFailed extends AppError {
  readonly status = 400;
  readonly slug = 'validation-failed';
  readonly title = 'Request is not valid';
  constructor(
    readonly errors: readonly FieldError[],
    detail = errors.map((e) => `${e.path || '(body)'}: ${e.message}`).join('; '),
  ) {
    super(detail);
  }
}
/** A request URI that is not valid percent-encoded UTF-8 (RFC 3986 §2.1; WHATWG URL "percent-decode"). */
export class MalformedUri extends AppError {
  readonly status = 400;
  readonly slug = 'malformed-uri';
  readonly title = 'Request URI is malformed';
}
export class Unauthenticated extends AppError {
  readonly status = 401;
  readonly slug = 'unauthenticated';
  readonly title = 'Authentication required';
}
export class Forbidden extends AppError {
  readonly status = 403;
  readonly slug = 'forbidden';
  readonly title = 'Not allowed for this role';
}
export class NotFound extends AppError {
  readonly status = 404;
  readonly slug = 'not-found';
  readonly title = 'Not found';
}
export class CaseNotFound extends AppError {
  readonly status = 404;
  readonly slug = 'case-not-found';
  readonly title = 'Case not found';
}
/**
 * A feed cursor older than what the feed still holds: the events after it were trimmed (docs/billing.md).
 * `oldestCursor`: the first event the feed still has (null when it holds none).
 */
export class CursorExpired extends AppError {
  readonly status = 410;
  readonly slug = 'cursor-expired';
  readonly title = 'The cursor is behind the feed window';
  constructor(
    detail: string,
    readonly oldestCursor: string | null,
  ) {
    super(detail);
  }
}
/**
 * The case's series is no longer in ildflow's spool (purged after retention, docs/design.md §7 "Data
 * lifecycle"): the images are in the PACS. 410: they will not come back here for this retrieval.
 */
export class SeriesNotHeld extends AppError {
  readonly status = 410;
  readonly slug = 'series-not-held';
  readonly title = 'The series is no longer held by ildflow; the images are in the PACS';
}
/** The engine returned no label map for this case (or it was refused): there is no overlay to serve. */
export class NoLabelMap extends AppError {
  readonly status = 404;
  readonly slug = 'no-label-map';
  readonly title = 'The engine returned no label map for this case';
}
/** A lifecycle move not in docs/design.md §4's table, or a lost race for the same case. */
export class TransitionRefused extends AppError {
  readonly status = 409;
  readonly slug = 'transition-refused';
  readonly title = 'Case is not in a state that allows this';
}
export class ClaimHeld extends AppError {
  readonly status = 409;
  readonly slug = 'claim-held';
  readonly title = 'Another physician holds this case';
}
/** An order id already held by a different order, or by another ordering source (docs/design.md §5). */
export class OrderIdConflict extends AppError {
  readonly status = 409;
  readonly slug = 'order-id-conflict';
  readonly title = 'Order id already used by another order';
}
export class PayloadTooLarge extends AppError {
  readonly status = 413;
  readonly slug = 'payload-too-large';
  readonly title = 'Request body too large';
}
export class TooManyRequests extends AppError {
  readonly status = 429;
  readonly slug = 'too-many-requests';
  readonly title = 'Too many requests';
}
/**
 * What is wrong with DICOM input, for the code that decides (the message is for people):
 * - `damaged`: cut or mangled, as a broken transfer leaves a file (too short, no "DICM" prefix, a data set
 *   that ends inside an element): fetching it again may heal it;
 * - `unusable`: whole, but saying something ildflow cannot use (absurd dimensions, no pixel data, a transfer
 *   syntax it cannot decode): it will say the same on every retry.
 */
export type DicomFault = 'damaged' | 'unusable';

/** DICOM input that cannot be used: truncated, lying lengths, wrong modality, missing tags. */
export class InvalidDicom extends AppError {
  readonly status = 422;
  readonly slug = 'invalid-dicom';
  readonly title = 'DICOM input is not usable';
  readonly kind: DicomFault;
  constructor(detail: string, options?: ErrorOptions & { kind?: DicomFault }) {
    super(detail, options);
    this.kind = options?.kind ?? 'unusable';
  }
}
/** An error that lists every reason at once, so whoever reads it fixes them all in one go. */
export abstract class ReasonsError extends AppError {
  constructor(readonly reasons: readonly string[]) {
    super(reasons.join('; '));
  }
}
/** The source study or series does not meet the engine's declared requirements: the case is ineligible. */
export class NotEligible extends ReasonsError {
  readonly status = 422;
  readonly slug = 'not-eligible';
  readonly title = 'Study is not eligible for analysis';
}
/** The engine answered something that is not an `ildflow.engine-result/1`. */
export class EngineFailed extends AppError {
  readonly status = 502;
  readonly slug = 'engine-failed';
  readonly title = 'Analysis engine failed';
}
/** A peer that ildflow depends on is down: always retryable. */
abstract class PeerUnavailable extends AppError {
  readonly status = 503;
  constructor(detail: string, options?: ErrorOptions) {
    super(detail, { ...options, retryable: true });
  }
}
/** The PACS could not be reached or answered an error; retried with backoff, then the case fails. */
export class PacsUnavailable extends PeerUnavailable {
  readonly slug = 'pacs-unavailable';
  readonly title = 'PACS unavailable';
}
/**
 * The OpenID Provider (its discovery document or JWKS) could not be reached or answered nonsense, so a
 * provider token cannot be checked now. Not the token's fault: 503, and the client may retry.
 */
export class ProviderUnavailable extends PeerUnavailable {
  readonly slug = 'identity-provider-unavailable';
  readonly title = 'Identity provider unavailable';
}
export class ConfigInvalid extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigInvalid';
  }
}

/** Turns a zod error into the `errors` extension member of a 400 problem. */
export function fieldErrors(issues: readonly { path: readonly PropertyKey[]; message: string }[]): FieldError[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}
