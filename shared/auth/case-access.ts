/**
 * Who sees how much of a case — minimum necessary (docs/design.md §6; HIPAA 45 CFR 164.502(b), 164.514(d)):
 * radiologists and admins see whole cases; an orderer sees, lists and cancels only the orders it placed
 * (`orderedBy`); the billing role sees what a claim needs; the PACS role a case's study identifiers and
 * status. Pure: the API applies it (services/api/cases/case-view.ts), the cancel decision checks it.
 */
import type { Case, TimelineEntry } from '../domain/case.js';
import { USER_ID, type Role } from './users.js';

export type CaseAccess = 'full' | 'billing' | 'pacs';

type Who = Readonly<{ id: string; roles: readonly Role[] }>;

/** A case whose orderer is not known (see `legacyOrderer`) has none: it is no orderer's own. */
export const isOwnOrder = (c: Pick<Case, 'orderedBy'>, user: Who): boolean => c.orderedBy !== undefined && c.orderedBy === user.id;

/** Sees every case in full (and lists every case). */
export const seesAllCases = (user: Who): boolean => user.roles.includes('admin') || user.roles.includes('radiologist');

/** How much of `c` the user may see; null: nothing (the API answers 404, as for a case that does not exist). */
export function caseAccess(c: Pick<Case, 'orderedBy'>, user: Who): CaseAccess | null {
  if (seesAllCases(user)) return 'full';
  if (user.roles.includes('orderer') && isOwnOrder(c, user)) return 'full';
  if (user.roles.includes('billing')) return 'billing';
  if (user.roles.includes('pacs')) return 'pacs';
  return null;
}

/** An admin cancels any case; an orderer only the orders it placed. */
export const mayCancel = (c: Pick<Case, 'orderedBy'>, user: Who): boolean => user.roles.includes('admin') || (user.roles.includes('orderer') && isOwnOrder(c, user));

/**
 * The orderer of a case stored before `orderedBy` was recorded: the user its first timeline entry names,
 * since the store has always written that entry (null → queued, "order accepted") with the user who
 * posted the order as its actor. A first entry that names a worker or anything but a user id gives none:
 * such a case stays with the roles that see every case.
 */
export function legacyOrderer(first: TimelineEntry | undefined): string | undefined {
  if (!first || first.from !== null || first.to !== 'queued') return undefined;
  return USER_ID.test(first.actor) ? first.actor : undefined;
}
