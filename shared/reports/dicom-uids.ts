/**
 * UIDs for the DICOM objects ildflow writes (SR, Encapsulated PDF). They are derived, not random: the
 * same case, attempt and document always get the same UID, so a report worker that retries after a crash
 * stores the same instance again (the PACS overwrites it) instead of leaving a duplicate beside it.
 * Form: `2.25.<decimal of 128 bits>` (PS3.5 §B.2, a UUID-derived UID), at most 44 characters.
 */
import { createHash } from 'node:crypto';

export function derivedUid(...parts: readonly (string | number)[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  // 128 bits from the digest with the UUID version/variant bits set (RFC 9562 v8: custom), as PS3.5 §B.2 asks.
  const b = Buffer.from(digest.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${b.toString('hex')}`).toString(10)}`;
}

/** The UIDs of one case's report objects; `phase` separates the unverified SR from the verified one. */
export function reportUids(caseId: string, attempt: number) {
  const u = (...p: (string | number)[]) => derivedUid('ildflow', caseId, attempt, ...p);
  return {
    srSeries: u('sr-series'),
    srInstance: (phase: 'preliminary' | 'final') => u('sr', phase),
    pdfSeries: u('pdf-series'),
    pdfInstance: u('pdf'),
    deviceObserver: derivedUid('ildflow', 'device-observer'),
    trackingUid: u('tracking'),
  };
}
