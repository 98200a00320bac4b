import { describe, expect, it } from 'vitest';
import { chainEntry, sha256Hex } from './audit-chain.js';
import { escapeParamValue, headerField, octetCountedFrame, sdElement, syslogMessage, type SyslogOrigin } from './syslog-message.js';
import { parseSyslogTarget } from './syslog-target.js';

const origin: SyslogOrigin = { hostname: 'ildflow-1.example.org', procId: '4242', facility: 'authpriv' };
const at = new Date(Date.UTC(2026, 11, 1, 10, 0, 0, 7));

describe('the RFC 5424 message of an audit entry', () => {
  it('carries PRI authpriv.info, version 1, the entry time with ms, host, app, procid, the action as MSGID, the chain in SD, then BOM and the line', () => {
    const { text } = chainEntry({ userId: 'u-rad-1', action: 'case.read', caseId: 'c-1', ip: '10.0.0.7' }, null, at);
    const msg = syslogMessage(text, origin);
    expect(msg).toBe(
      `<86>1 2026-12-01T10:00:00.007Z ildflow-1.example.org ildflow 4242 case.read ` +
        `[ildflowAudit@32473 seq="1" prev="${'0'.repeat(64)}" hash="${sha256Hex(text)}" action="case.read" userId="u-rad-1"] \uFEFF${text}`,
    );
  });

  it('uses the facility asked for: local4 info is PRI 166', () => {
    const { text } = chainEntry({ userId: 'u', action: 'a' }, null, at);
    expect(syslogMessage(text, { ...origin, facility: 'local4' })).toMatch(/^<166>1 /);
  });

  it('escapes ", \\ and ] in PARAM-VALUEs and nothing else (RFC 5424 §6.3.3)', () => {
    expect(escapeParamValue('a"b\\c]d[e=f')).toBe('a\\"b\\\\c\\]d[e=f');
    expect(sdElement('x@32473', [['k', 'say "hi" \\ ]']])).toBe('[x@32473 k="say \\"hi\\" \\\\ \\]"]');
    const { text } = chainEntry({ userId: 'odd]"\\user', action: 'case.read' }, null, at);
    expect(syslogMessage(text, origin)).toContain('userId="odd\\]\\"\\\\user"]');
  });

  it('keeps header fields to printable US-ASCII within their lengths, and NILVALUE when empty', () => {
    expect(headerField('case read\u00e9', 32)).toBe('case_read_');
    expect(headerField('x'.repeat(40), 32)).toHaveLength(32);
    expect(headerField('', 32)).toBe('-');
  });

  it('refuses a line that is not an audit entry', () => {
    expect(() => syslogMessage('{"seq":', origin)).toThrow('not an audit entry');
  });
});

describe('octet-counting framing (RFC 6587 §3.4.1, RFC 5425 §4.3)', () => {
  it('prefixes the length in bytes, not characters', () => {
    const frame = octetCountedFrame('\uFEFFé');
    expect(frame.toString('utf8')).toBe('5 \uFEFFé');
    expect(frame.subarray(2)).toHaveLength(5);
  });
});

describe('ILDFLOW_AUDIT_SYSLOG', () => {
  it.each([
    ['udp://127.0.0.1:514', { transport: 'udp', host: '127.0.0.1', port: 514 }],
    ['tcp://syslog.example.org:601', { transport: 'tcp', host: 'syslog.example.org', port: 601 }],
    ['tls://[::1]:6514', { transport: 'tls', host: '::1', port: 6514 }],
  ])('reads %s', (text, target) => {
    expect(parseSyslogTarget(text)).toEqual(target);
  });

  it.each(['syslog://h:514', 'tcp://h', 'tcp://h:0', 'tcp://h:70000', 'tcp://user@h:514', 'tcp://h:514/x'])('refuses %s', (text) => {
    expect(parseSyslogTarget(text)).toBeNull();
  });
});
