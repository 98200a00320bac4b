/**
 * Addenda to a signed report (docs/design.md §5 POST /v1/cases/{id}/addendum). An addendum is text, optionally
 * with a new decision. A change to reject withdraws the charge:
 * - billed → reversed, with one reversal (credit, HL7 FT1-6 `CD`) per charge event, written to the billing
 *   outbox in the same atomic step as the status change, so a reversal is never lost or doubled.
 * - signed but not yet billed: signed → rejected (a departure from docs/design.md §4's table, which has no such
 *   move: a physician who withdraws the result before the charge left must not be billed, and a case
 *   parked in `signed` forever would break "nothing stuck"). The billing worker then finds no signed
 *   case and bills nothing. The store's compare-and-set makes this race-free: if the charge commits
 *   first, this decision re-runs on the billed case and emits the reversal instead.
 * Who: the signer or an admin. A change of decision changes a signed result, which only a radiologist with
 * a valid NPI may do (docs/design.md §6): it is a signature of its own — its signer (by NPI), time and
 * attestation are recorded in the addendum, and `review.signer` stays the physician who signed first. An
 * admin without that adds text only (a coding note), never a decision or a classification.
 */
import { LIMITS, type AddendumBody, type Case, type Review } from '../domain/case.js';
import { Forbidden, TransitionRefused, ValidationFailed } from '../errors.js';
import type { Change, OutboxEvent } from '../store/case-store.js';
import { isAdmin, signerOf, type ReviewUser } from './actor.js';
import { attestationText } from './submit-review.js';

/** A charge as far as this decision needs it; the billing module's ChargeEvent satisfies it. */
export type ChargeLike = Readonly<{ eventId: string; kind?: string }>;

export type Reversals<C extends ChargeLike> = Readonly<{
  /** The case's charge events (`case.billing.eventIds`), loaded by the caller. */
  charges: readonly C[];
  build: (charge: C, opts: { now: Date; reason: string }) => { eventId: string };
}>;

export function addAddendum<C extends ChargeLike>(
  c: Case,
  user: ReviewUser,
  body: AddendumBody,
  now: Date,
  reversals: Reversals<C>,
): Change {
  if (c.status !== 'signed' && c.status !== 'billed')
    throw new TransitionRefused(`an addendum needs a signed or billed case; this one is ${c.status}`);
  const review = c.review;
  if (!review) throw new TransitionRefused(`case ${c.id} has no signed review`);
  if (review.signer.id !== user.id && !isAdmin(user)) throw new Forbidden('only the signing physician or an admin may add an addendum');
  // The case document is rewritten on every change: its addenda are bounded like its text (LIMITS).
  if (review.addenda.length >= LIMITS.addenda)
    throw new TransitionRefused(`case ${c.id} already has ${review.addenda.length} addenda, the most a case keeps`);
  if (body.decision === 'amend' && !body.classification)
    throw new ValidationFailed([{ path: 'classification', message: 'amend needs a classification' }]);
  if (body.classification && body.decision !== 'amend')
    throw new ValidationFailed([{ path: 'classification', message: 'a classification goes with decision: amend' }]);
  const signs = body.decision !== undefined;
  if (signs && !user.roles.includes('radiologist'))
    throw new Forbidden('only a radiologist may change a signed result; an admin may add text only');
  if (signs && body.attestation !== true)
    throw new ValidationFailed([{ path: 'attestation', message: 'a change of decision is signed: the physician must attest (attestation: true)' }]);

  // A change is signed by NPI (signerOf refuses a user without one); a text addendum by an admin without an
  // NPI (e.g. a coding supervisor) is recorded by id and name only.
  const by = signs || user.npi ? signerOf(user) : { id: user.id, name: user.name, npi: '' };
  const addendum = {
    at: now.toISOString(),
    by,
    text: body.text,
    ...(body.decision ? { decision: body.decision, attestation: true as const, attestationText: attestationText(c, body.decision, 'addendum') } : {}),
    ...(body.decision === 'amend' && body.classification ? { classification: body.classification } : {}),
  };
  const nextReview: Review = {
    ...review,
    ...(body.decision === 'amend' && body.classification ? { classification: body.classification } : {}),
    addenda: [...review.addenda, addendum],
  };
  const reason = `addendum by ${user.id}${body.decision ? ` (${body.decision})` : ''}`;

  if (body.decision !== 'reject') return { next: { ...c, review: nextReview }, reason };
  if (c.status === 'signed') return { next: { ...c, status: 'rejected', review: nextReview }, reason: `${reason}: rejected before billing, no charge` };

  const wanted = c.billing?.eventIds ?? [];
  const charges = reversals.charges.filter((e) => wanted.includes(e.eventId) && (e.kind ?? 'charge') === 'charge');
  if (wanted.length === 0 || charges.length !== wanted.length)
    throw new TransitionRefused(`the charge events of case ${c.id} could not be found; try again`);
  const revReason = `addendum by ${user.id} rejects the result: ${body.text}`.slice(0, 500);
  const events: OutboxEvent[] = charges.map((ch) => {
    const event = reversals.build(ch, { now, reason: revReason });
    return { eventId: event.eventId, event };
  });
  return {
    next: {
      ...c,
      status: 'reversed',
      review: nextReview,
      billing: { ...c.billing!, reversalEventIds: events.map((e) => e.eventId) },
    },
    reason: `${reason}: charge reversed`,
    events,
  };
}
