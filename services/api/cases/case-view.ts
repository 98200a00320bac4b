/**
 * What of a case an API answer shows (DESIGN.md §6: "internal paths and peer URLs never appear in API
 * answers"). `source.seriesDir` is where the spool keeps the series on the server: the workers need it,
 * no caller does, so it never leaves the API. Failure and timeline reasons carry the workers' error text,
 * which names peers (the PACS URL, an engine's address, a folder source's path): an admin needs it to fix
 * the peer, so admins see it whole; every other role sees the reason with those parts replaced.
 */
import type { Role } from '../../../shared/auth/users.js';
import type { Case, TimelineEntry } from '../../../shared/domain/case.js';

type Viewer = Readonly<{ roles: readonly Role[] }>;

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

/** The case as `viewer` may see it: never the spool path; reasons without internals unless an admin. */
export function caseView(c: Case, viewer: Viewer): Case {
  const { source, failure, ...rest } = c;
  const shown: Case = { ...rest };
  if (source) {
    const { seriesDir: _server, ...fromPacs } = source;
    shown.source = fromPacs as Case['source'];
  }
  if (failure) shown.failure = seesInternals(viewer) ? failure : { ...failure, reason: withoutInternals(failure.reason) };
  return shown;
}

export function timelineView(entries: readonly TimelineEntry[], viewer: Viewer): TimelineEntry[] {
  return seesInternals(viewer) ? [...entries] : entries.map((e) => ({ ...e, reason: withoutInternals(e.reason) }));
}
