/** Where the audit trail's syslog copy goes: `ILDFLOW_AUDIT_SYSLOG` (docs/operations.md "The audit trail"). */

/** udp: RFC 5426; tcp: RFC 6587 octet counting; tls: RFC 5425. */
export type SyslogTransport = 'udp' | 'tcp' | 'tls';

export type SyslogTarget = Readonly<{ transport: SyslogTransport; host: string; port: number }>;

/** `udp://host:port`, `tcp://host:port` or `tls://host:port` (an IPv6 address in brackets); null when not one. */
export function parseSyslogTarget(text: string): SyslogTarget | null {
  const m = /^(udp|tcp|tls):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { transport: m[1] as SyslogTransport, host: m[2]!.replace(/^\[|\]$/g, ''), port };
}
