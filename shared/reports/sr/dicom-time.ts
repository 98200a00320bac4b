/** DICOM date and time values (PS3.5 6.2: DA, TM, DT) in UTC; the objects also carry TimezoneOffsetFromUTC +0000. */
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function da(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}
export function tm(d: Date): string {
  return `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}
export function dt(d: Date): string {
  return `${da(d)}${tm(d)}.${pad(d.getUTCMilliseconds(), 3)}+0000`;
}
/** An ISO date-time string as DT, or the fallback when it does not parse. */
export function dtOf(iso: string | undefined, fallback: Date): string {
  const t = iso ? Date.parse(iso) : NaN;
  return dt(Number.isNaN(t) ? fallback : new Date(t));
}
