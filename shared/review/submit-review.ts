/** The physician's decision on the engine result: the professional component of 0877T. */
import type { Case, Review, ReviewBody } from '../domain/case.js';
import { ClaimHeld, TransitionRefused } from '../errors.js';
import type { Change } from '../store/case-store.js';
import { canonicalJson, isLeaseLive, sha256Hex, signerOf, withoutClaim, type ReviewUser } from './actor.js';
import { LeaseExpired } from './errors.js';

const VERB = { accept: 'accept', amend: 'amend', reject: 'reject' } as const;

/**
 * The attestation the physician signs. It names the result by engine and version, so the signature cannot
 * later be read as approving a different analysis.
 */
export function attestationText(c: Case, decision: ReviewBody['decision'], where: 'report' | 'addendum' = 'report'): string {
  const e = c.result?.engine;
  const engine = e ? `${e.name} ${e.version} (${e.regulatory.status === 'research' ? 'research use only' : 'cleared device'})` : 'the engine';
  return (
    `I have personally reviewed the source chest CT images and the result of ${engine}, ` +
    `and I ${VERB[decision]} its classification as recorded in this ${where}.`
  );
}

/**
 * in_review → signed (accept, amend) or rejected (reject), by the holder of a live lease. The review
 * records the signer, the time, the attestation and a SHA-256 of the result shown, so a later change of the
 * stored result is detectable. A second review finds the case no longer in_review: 409.
 */
export function submitReview(c: Case, user: ReviewUser, body: ReviewBody, now: Date): Change {
  if (c.status !== 'in_review') throw new TransitionRefused(`a ${c.status} case cannot be reviewed (it must be claimed first)`);
  if (c.claim?.userId !== user.id) throw new ClaimHeld(`case ${c.id} is held by ${c.claim?.userName ?? 'nobody'}, not by you`);
  if (!isLeaseLive(c.claim, now)) throw new LeaseExpired(`your claim expired at ${c.claim!.expiresAt}; claim the case again`);
  if (!c.result) throw new TransitionRefused(`case ${c.id} has no engine result to review`);

  const engineClass = { category: c.result.classification.category, rationale: [...c.result.classification.rationale] };
  const review: Review = {
    decision: body.decision,
    // amend: the physician's classification replaces the engine's; accept and reject record the engine's,
    // i.e. what was accepted or rejected.
    classification: body.decision === 'amend' && body.classification ? body.classification : engineClass,
    ...(body.comment ? { comment: body.comment } : {}),
    attestation: true,
    attestationText: attestationText(c, body.decision),
    signer: signerOf(user),
    signedAt: now.toISOString(),
    shown: { engineId: c.result.engine.id, engineVersion: c.result.engine.version, resultSha256: sha256Hex(canonicalJson(c.result)) },
    ...(body.serviceModifier ? { serviceModifier: body.serviceModifier } : {}),
    addenda: [],
  };
  const status = body.decision === 'reject' ? 'rejected' : 'signed';
  return { next: { ...withoutClaim(c), status, review }, reason: `${body.decision} by ${user.id}` };
}
