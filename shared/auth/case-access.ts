/**
 * Who sees how much of a case — minimum necessary (DESIGN.md §6; HIPAA 45 CFR 164.502(b), 164.514(d)):
 * radiologists and admins see whole cases; an orderer sees, lists and cancels only the orders it placed
 * (`orderedBy`); the billing role sees what a claim needs; the PACS role a case's study identifiers and
 * status. Pure: the API applies it (services/api/cases/case-view.ts), the cancel decision checks it.
 */
import type { Case } from '../domain/case.js';
import type { Role } from './users.js';

export type CaseAccess = 'full' | 'billing' | 'pacs';

type Who = Readonly<{ id: string; roles: readonly Role[] }>;

/** A case stored before its orderer was recorded has none: it is no orderer's own. */
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
