/**
 * The audit trail's syslog copy, as bytes (docs/operations.md "The audit trail"): one RFC 5424 message per
 * chained entry, framed for its transport. Pure: the sender (syslog-sender.ts) only moves these bytes.
 * The message's MSG is the entry's line exactly as the files hold it, so a receiver can check the same
 * hash chain; the entry carries no PHI (audit-chain.ts), and nothing is added here but its own fields.
 */
import { parseRecord, sha256Hex } from './audit-chain.js';

/**
 * Facilities an operator may choose (RFC 5424 §6.2.1, Table 1). The default is authpriv (10), "security/
 * authorization messages (private)": the audit trail records who read which case, and syslog daemons
 * route authpriv to a file only root can read (Debian's rsyslog: /var/log/auth.log), whereas `auth` (4)
 * is often world-readable and `log audit` (13) has no name and no default rule in most daemons. local0–7
 * (16–23) are for a site whose SIEM collects a local facility.
 */
export const SYSLOG_FACILITIES = { authpriv: 10, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23 } as const;
export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;

/** Severity 6, informational (RFC 5424 §6.2.1, Table 2): an audit entry is a record, not a fault. */
const SEVERITY_INFO = 6;

/**
 * The SD-ID of the entry's structured data: a private one, `name@PEN` (RFC 5424 §7.2.2). 32473 is the
 * enterprise number reserved for documentation (RFC 5612 §2): a placeholder until ildflow's publisher
 * registers its own with IANA; receivers should match on it only through configuration.
 */
export const AUDIT_SD_ID = 'ildflowAudit@32473';

/** The UTF-8 byte order mark that opens a MSG encoded in UTF-8 (RFC 5424 §6.4). */
const BOM = '\uFEFF';

/** Who sends: the fixed header fields of this process (RFC 5424 §6.2.4–6.2.6). */
export type SyslogOrigin = Readonly<{ hostname: string; procId: string; facility: SyslogFacility }>;

/**
 * The RFC 5424 message of one audit line: PRI, VERSION 1, TIMESTAMP (the entry's own `at`, RFC 3339 with
 * milliseconds, §6.2.3), HOSTNAME, APP-NAME `ildflow`, PROCID, MSGID (the action), one SD-ELEMENT with the
 * entry's place in the chain (seq, prev, and `hash`, the SHA-256 of the line, which the next entry carries
 * as its prev) and who did what, then the BOM and the line. Throws on a line that is not an entry.
 */
export function syslogMessage(line: string, origin: SyslogOrigin): string {
  const rec = parseRecord(line);
  if (!rec) throw new Error('not an audit entry');
  const pri = SYSLOG_FACILITIES[origin.facility] * 8 + SEVERITY_INFO;
  const sd = sdElement(AUDIT_SD_ID, [
    ['seq', String(rec.seq)],
    ['prev', rec.prev],
    ['hash', sha256Hex(line)],
    ['action', rec.action],
    ['userId', rec.userId],
  ]);
  // HOSTNAME ≤ 255, PROCID ≤ 128, MSGID ≤ 32 printable US-ASCII characters (§6, the ABNF), or NILVALUE.
  return `<${pri}>1 ${rec.at} ${headerField(origin.hostname, 255)} ildflow ${headerField(origin.procId, 128)} ${headerField(rec.action, 32)} ${sd} ${BOM}${line}`;
}

/** One SD-ELEMENT; PARAM-VALUEs escaped per RFC 5424 §6.3.3. */
export function sdElement(id: string, params: readonly (readonly [string, string])[]): string {
  return `[${id}${params.map(([name, value]) => ` ${name}="${escapeParamValue(value)}"`).join('')}]`;
}

/** `"`, `\` and `]` inside a PARAM-VALUE are preceded by a backslash (RFC 5424 §6.3.3); nothing else is. */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/**
 * A header field as RFC 5424 allows it: printable US-ASCII (33–126) only, at most `max` characters; any
 * other character becomes `_`, and an empty field the NILVALUE `-`.
 */
export function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/**
 * Octet-counting framing: `MSG-LEN SP SYSLOG-MSG`, the length in bytes (RFC 6587 §3.4.1 for TCP; RFC 5425
 * §4.3 for TLS, the same frame). UDP sends the message alone, one per datagram (RFC 5426 §3.1).
 */
export function octetCountedFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
