/**
 * What of a case an API answer shows. Minimum necessary (docs/design.md §6, shared/auth/case-access.ts):
 * radiologists, admins and the orderer who placed the order see the whole case; the billing role what a
 * claim needs (the order, patient, coverage, the study and engine identity, who signed what, the charge
 * references — the documentation docs/design.md §5 lists for a charge, whose quantities the billing feed
 * carries); the PACS role a case's study identifiers and status, nothing of the patient.
 *
 * Internal paths and peer URLs never appear in API answers (docs/design.md §6): `source.seriesDir` is where the
 * spool keeps the series on the server — the workers need it, no caller does — so no view has it. Failure
 * and timeline reasons carry the workers' error text, which names peers (the PACS URL, an engine's address,
 * a folder source's path): an admin needs it to fix the peer and sees it whole; any other role sees the
 * reason with those parts replaced.
 */
import { caseAccess } from '../../../shared/auth/case-access.js';
import type { Role } from '../../../shared/auth/users.js';
import type { Case, SourceSeries, TimelineEntry } from '../../../shared/domain/case.js';
import { imagesLocation, type ImagesLocation } from '../../../shared/lifecycle/spool-retention.js';

type Viewer = Readonly<{ id: string; roles: readonly Role[] }>;

const HIDDEN = '[internal]';
const INTERNALS: readonly RegExp[] = [
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>()]+/gi, // any URL (RFC 3986 §3: scheme "://" authority path …), dicom:// included
  /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g, // an IPv4 address, with its port
  /\[[0-9a-f:.]*:[0-9a-f:.]*\](?::\d{1,5})?/gi, // a bracketed IPv6 address (RFC 3986 §3.2.2)
  /\b[a-z][\w.-]*@[\w.-]+:\d{1,5}\b/gi, // a DIMSE peer: AET@host:port
  /\b[a-z][\w-]*(?:\.[\w-]+)*:\d{2,5}\b/gi, // host:port
  /(?<![\w.])(?:\/[\w.@%+-]+){2,}\/?/g, // an absolute path of two or more segments
];

/** `text` with URLs, addresses and server paths replaced. */
export function withoutInternals(text: string): string {
  return INTERNALS.reduce((t, re) => t.replace(re, HIDDEN), text);
}

const seesInternals = (v: Viewer) => v.roles.includes('admin');

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Pick<T, K>;
}

const SOURCE_FOR_BILLING = ['studyInstanceUid', 'seriesInstanceUid', 'accessionNumber', 'studyDate', 'acquisitionDate', 'modality', 'sliceCount', 'sliceThicknessMm'] as const;
const SOURCE_FOR_PACS = ['studyInstanceUid', 'seriesInstanceUid', 'accessionNumber'] as const;

function fullView(c: Case, viewer: Viewer): Partial<Case> {
  const { source, failure, ...rest } = c;
  const shown: Partial<Case> = { ...rest };
  if (source) {
    const { seriesDir: _server, ...fromPacs } = source;
    shown.source = fromPacs as SourceSeries;
  }
  // Where the images are now: the spool, or only the PACS once retention removed them.
  (shown as Partial<Case> & { images?: ImagesLocation }).images = imagesLocation(c);
  if (failure) shown.failure = seesInternals(viewer) ? failure : { ...failure, reason: withoutInternals(failure.reason) };
  // The label map's reason names the engine, whose name may hold its address (an http engine's).
  if (c.labelMap && c.labelMap.status !== 'stored' && !seesInternals(viewer)) shown.labelMap = { ...c.labelMap, reason: withoutInternals(c.labelMap.reason) };
  return shown;
}

function billingView(c: Case) {
  const r = c.review;
  return {
    ...pick(c, ['id', 'status', 'createdAt', 'updatedAt', 'order', 'patient', 'coverage', 'advisories', 'billing']),
    ...(c.source ? { source: pick(c.source, SOURCE_FOR_BILLING) } : {}),
    ...(c.result ? { result: { engine: c.result.engine, classification: { category: c.result.classification.category } } } : {}),
    ...(r
      ? {
          review: {
            ...pick(r, ['decision', 'attestation', 'signer', 'signedAt', 'serviceModifier']),
            classification: { category: r.classification.category },
            // A change of decision moves the charge (a reversal); the addendum text is clinical, not billing's.
            addenda: r.addenda.map((a) => pick(a, ['at', 'by', 'decision'])),
          },
        }
      : {}),
  };
}

function pacsView(c: Case) {
  return {
    ...pick(c, ['id', 'status', 'createdAt', 'updatedAt', 'requestedStudy', 'awaitingStudyUntil']),
    order: { id: c.order.id },
    ...(c.source ? { source: pick(c.source, SOURCE_FOR_PACS) } : {}),
  };
}

/** The case as `viewer` may see it; null when it may see nothing of it (answered as not found). */
export function caseView(c: Case, viewer: Viewer): object | null {
  switch (caseAccess(c, viewer)) {
    case 'full':
      return fullView(c, viewer);
    case 'billing':
      return billingView(c);
    case 'pacs':
      return pacsView(c);
    default:
      return null;
  }
}

/** The timeline, for a viewer with full access to the case (the others get none). */
export function timelineView(entries: readonly TimelineEntry[], viewer: Viewer): TimelineEntry[] {
  return seesInternals(viewer) ? [...entries] : entries.map((e) => ({ ...e, reason: withoutInternals(e.reason) }));
}
