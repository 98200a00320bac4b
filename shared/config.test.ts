import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { ConfigInvalid } from './errors.js';

const base = { ILDFLOW_USERS_FILE: '/etc/ildflow/users.json', ILDFLOW_PACS: 'file:///data/dicom' };

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base);
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.ILDFLOW_PORT).toBe(8080);
    expect(c.ILDFLOW_HOST).toBe('127.0.0.1');
    expect(c.ILDFLOW_ENGINE).toBe('reference');
    expect(c.ILDFLOW_BILLING_MODE).toBe('global');
    expect(c.ILDFLOW_CLAIM_LEASE_MINUTES).toBe(30);
    expect(c.ILDFLOW_MAX_INSTANCE_BYTES).toBe(64 * 1024 * 1024);
  });

  it('takes ILDFLOW_MAX_INSTANCE_BYTES from 1 MiB up, and refuses less', () => {
    expect(loadConfig({ ...base, ILDFLOW_MAX_INSTANCE_BYTES: '1048576' }).ILDFLOW_MAX_INSTANCE_BYTES).toBe(1048576);
    expect(() => loadConfig({ ...base, ILDFLOW_MAX_INSTANCE_BYTES: '4096' })).toThrow(ConfigInvalid);
  });

  it('takes an https OpenID issuer (http only on loopback) with the documented claim defaults', () => {
    const c = loadConfig({ ...base, ILDFLOW_OIDC_ISSUER: 'https://idp.hospital.example/realms/staff' });
    expect(c.ILDFLOW_OIDC_ISSUER).toBe('https://idp.hospital.example/realms/staff');
    expect([c.ILDFLOW_OIDC_AUDIENCE, c.ILDFLOW_OIDC_ROLES_CLAIM, c.ILDFLOW_OIDC_NPI_CLAIM]).toEqual(['ildflow', 'roles', 'npi']);
    expect(loadConfig({ ...base, ILDFLOW_OIDC_ISSUER: 'http://127.0.0.1:9000' }).ILDFLOW_OIDC_ISSUER).toBe('http://127.0.0.1:9000');
    expect(() => loadConfig({ ...base, ILDFLOW_OIDC_ISSUER: 'http://idp.hospital.example' })).toThrow(/ILDFLOW_OIDC_ISSUER: must be an https/);
    expect(loadConfig(base).ILDFLOW_OIDC_ISSUER).toBeUndefined();
    expect(() => loadConfig({ ...base, ILDFLOW_OIDC_CLIENT_ID: 'ildflow-review' })).toThrow(/ILDFLOW_OIDC_ISSUER: required when ILDFLOW_OIDC_CLIENT_ID is set/);
  });

  it('lists every problem at once', () => {
    const err = (() => {
      try {
        loadConfig({ ILDFLOW_PORT: 'eighty', ILDFLOW_ENGINE: 'magic', ILDFLOW_BILLING_WEBHOOK_URL: 'https://billing.example/hook' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigInvalid);
    const problems = (err as ConfigInvalid).problems.join('\n');
    for (const v of ['ILDFLOW_PORT', 'ILDFLOW_ENGINE', 'ILDFLOW_USERS_FILE', 'ILDFLOW_PACS', 'ILDFLOW_BILLING_WEBHOOK_SECRET'])
      expect(problems).toContain(v);
  });

  it('takes the HL7 order listener settings and names each bad one', () => {
    const c = loadConfig({ ...base, ILDFLOW_HL7_LISTEN: 'mllp://0.0.0.0:2575', ILDFLOW_HL7_PAYERS: 'MCARE=medicare, BLUE=bcbs' });
    expect(c.ILDFLOW_HL7_LISTEN).toBe('mllp://0.0.0.0:2575');
    expect(c.ILDFLOW_HL7_ORDER_CODES).toBe('0877T');
    try {
      loadConfig({ ...base, ILDFLOW_HL7_LISTEN: 'tcp://x:1', ILDFLOW_HL7_PAYERS: 'MCARE=medicaid', ILDFLOW_HL7_ORDER_CODES: 'a b' });
      expect.unreachable();
    } catch (e) {
      const problems = (e as ConfigInvalid).problems.join('\n');
      for (const v of ['ILDFLOW_HL7_LISTEN', 'ILDFLOW_HL7_PAYERS', 'ILDFLOW_HL7_ORDER_CODES']) expect(problems).toContain(v);
    }
    expect(loadConfig({ ...base, ILDFLOW_RESULTS_MLLP: 'mllp://ehr:6661' }).ILDFLOW_RESULTS_RECEIVING_APPLICATION).toBe('EHR');
    try {
      loadConfig({ ...base, ILDFLOW_RESULTS_MLLP: 'http://ehr/results' });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigInvalid).problems.join('\n')).toContain('ILDFLOW_RESULTS_MLLP');
    }
  });

  it('does not require a PACS for the demo', () => {
    expect(loadConfig({ ILDFLOW_USERS_FILE: 'u.json' }, { pacsRequired: false }).ILDFLOW_PACS).toBeUndefined();
  });

  it.each(['loopback', '10.0.0.5', '10.0.0.0/8, fd00::/8', 'loopback,uniquelocal', '::1'])('accepts ILDFLOW_TRUST_PROXY=%j', (v) => {
    expect(loadConfig({ ...base, ILDFLOW_TRUST_PROXY: v }).ILDFLOW_TRUST_PROXY).toBe(v);
  });

  it.each(['true', '1', '*', '10.0.0.0/0', '::/0', '10.0.0.0/33', '10.0.0.1/8/2', 'proxy.example', 'loopback,'])('refuses ILDFLOW_TRUST_PROXY=%j (any client could claim an address)', (v) => {
    expect(() => loadConfig({ ...base, ILDFLOW_TRUST_PROXY: v })).toThrow(/ILDFLOW_TRUST_PROXY/);
  });

  it('trusts no proxy and sets the cookie Secure by the request by default', () => {
    const c = loadConfig(base);
    expect(c.ILDFLOW_TRUST_PROXY).toBeUndefined();
    expect(c.ILDFLOW_COOKIE_SECURE).toBe('auto');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ ...base, ILDFLOW_PORT: '' }).ILDFLOW_PORT).toBe(8080);
  });

  it('sends the audit trail to no syslog by default, and reads ILDFLOW_AUDIT_SYSLOG with its facility and backlog', () => {
    const d = loadConfig(base);
    expect([d.ILDFLOW_AUDIT_SYSLOG, d.ILDFLOW_AUDIT_SYSLOG_FACILITY, d.ILDFLOW_AUDIT_SYSLOG_BACKLOG]).toEqual([undefined, 'authpriv', 10_000]);
    const c = loadConfig({ ...base, ILDFLOW_AUDIT_SYSLOG: 'tcp://siem.hospital.example:601', ILDFLOW_AUDIT_SYSLOG_FACILITY: 'local4', ILDFLOW_AUDIT_SYSLOG_BACKLOG: '500' });
    expect(c.ILDFLOW_AUDIT_SYSLOG).toEqual({ transport: 'tcp', host: 'siem.hospital.example', port: 601 });
    expect([c.ILDFLOW_AUDIT_SYSLOG_FACILITY, c.ILDFLOW_AUDIT_SYSLOG_BACKLOG]).toEqual(['local4', 500]);
  });

  it('names each bad syslog setting, and reads the CA file of a tls:// peer with the rest', () => {
    const bad = (() => {
      try {
        loadConfig({ ...base, ILDFLOW_AUDIT_SYSLOG: 'syslog://h:514', ILDFLOW_AUDIT_SYSLOG_FACILITY: 'kern', ILDFLOW_AUDIT_SYSLOG_CA_FILE: '/nonexistent/ca.pem' });
      } catch (e) {
        return (e as ConfigInvalid).problems.join('\n');
      }
    })();
    expect(bad).toMatch(/ILDFLOW_AUDIT_SYSLOG: must be udp:\/\/host:port/);
    expect(bad).toContain('ILDFLOW_AUDIT_SYSLOG_FACILITY');
    expect(bad).toContain('ILDFLOW_AUDIT_SYSLOG_CA_FILE: only for a tls://');
    expect(bad).toContain('ILDFLOW_AUDIT_SYSLOG_CA_FILE: cannot read /nonexistent/ca.pem');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ildflow-config-'));
    try {
      const ca = path.join(dir, 'ca.pem');
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      expect(loadConfig({ ...base, ILDFLOW_AUDIT_SYSLOG: 'tls://127.0.0.1:6514', ILDFLOW_AUDIT_SYSLOG_CA_FILE: ca }).auditSyslogTls.ca).toContain('BEGIN CERTIFICATE');
      writeFileSync(ca, 'not a certificate');
      expect(() => loadConfig({ ...base, ILDFLOW_AUDIT_SYSLOG: 'tls://127.0.0.1:6514', ILDFLOW_AUDIT_SYSLOG_CA_FILE: ca })).toThrow(/holds no PEM certificate/);
      const key = path.join(dir, 'key.pem');
      writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const tls = { ILDFLOW_AUDIT_SYSLOG: 'tls://127.0.0.1:6514', ILDFLOW_AUDIT_SYSLOG_CERT_FILE: ca, ILDFLOW_AUDIT_SYSLOG_KEY_FILE: key };
      expect(loadConfig({ ...base, ...tls }).auditSyslogTls).toMatchObject({ cert: expect.stringContaining('CERTIFICATE'), key: expect.stringContaining('PRIVATE KEY') });
      expect(() => loadConfig({ ...base, ...tls, ILDFLOW_AUDIT_SYSLOG_KEY_FILE: undefined })).toThrow(/set both or neither/);
      expect(() => loadConfig({ ...base, ...tls, ILDFLOW_AUDIT_SYSLOG_KEY_FILE: ca })).toThrow(/ILDFLOW_AUDIT_SYSLOG_KEY_FILE: .* holds no PEM private key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
