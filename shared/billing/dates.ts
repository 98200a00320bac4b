/**
 * Calendar dates for billing. Dates of service and the prior/concurrent comparison are calendar days
 * (YYYY-MM-DD), not instants, so these helpers never go through `Date` arithmetic in UTC by accident.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** DICOM DA is YYYYMMDD (PS3.5 §6.2); ACR-NEMA files still carry YYYY.MM.DD, which PS3.5 tolerates on read. */
const DICOM_DA = /^(\d{4})\.?(\d{2})\.?(\d{2})$/;

function isCalendarDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate(); // day 0 of next month = last day of this one
  return d <= days;
}

/**
 * A calendar date from ISO `YYYY-MM-DD` or DICOM DA `YYYYMMDD`, as `YYYY-MM-DD`; undefined when the
 * text is not a real calendar date (2026-02-30 is refused).
 */
export function toCalendarDate(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const t = text.trim();
  const m = ISO_DATE.exec(t) ?? DICOM_DA.exec(t);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return isCalendarDate(y, mo, d) ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/**
 * The calendar date of an ISO 8601 date-time.
 * - With `timeZone` (IANA name, e.g. 'America/New_York'): the date on the wall calendar there.
 * - Without: the date as written in the string, i.e. in the offset the writer used. An order placed
 *   "2026-11-27T23:30:00-05:00" is on the 27th for the clinic that placed it, although it is the 28th in UTC.
 */
export function calendarDateOf(isoDateTime: string, timeZone?: string): string | undefined {
  const instant = Date.parse(isoDateTime);
  if (Number.isNaN(instant)) return undefined;
  if (timeZone) {
    // en-CA formats as YYYY-MM-DD.
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
      instant,
    );
  }
  return toCalendarDate(isoDateTime.slice(0, 10));
}
