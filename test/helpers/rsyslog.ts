/**
 * A real syslog peer for tests (docs/peers.md "rsyslog"): Debian's rsyslogd, unprivileged, in the
 * foreground, with its own config, pid file and work directory in a temp folder, listening on free
 * loopback ports for UDP (RFC 5426), TCP (RFC 6587) and TLS (RFC 5425, a self-signed certificate made
 * here with openssl), anonymous senders on one port and only certified ones on another. Every message it receives is written, RFC 5424 again
 * (RSYSLOG_SyslogProtocol23Format), to one file the test reads. It can be stopped and started again on
 * the same ports. Every wait is bounded.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, stop, until } from './processes.js';

const RSYSLOGD = '/usr/sbin/rsyslogd';

/** rsyslog-gnutls's driver, in the multiarch folder (/usr/lib/x86_64-linux-gnu/rsyslog on amd64). */
function hasTlsDriver(): boolean {
  return readdirSync('/usr/lib').some((d) => existsSync(path.join('/usr/lib', d, 'rsyslog', 'lmnsd_gtls.so')));
}

/**
 * Whether the syslog tests can run here: rsyslogd and its TLS driver (rsyslog-gnutls). A developer machine
 * without them skips; in CI (.ci/run installs them) a missing one is an error, so the tests always run there.
 */
export function isRsyslogInstalled(): boolean {
  const ok = existsSync(RSYSLOGD) && hasTlsDriver();
  if (!ok && process.env.CI) throw new Error('rsyslog (with rsyslog-gnutls) is not installed, but CI must run the syslog tests: see .ci/run');
  return ok;
}

export type Rsyslog = Readonly<{
  udpPort: number;
  tcpPort: number;
  tlsPort: number;
  /** TLS that takes only senders presenting a certificate signed by `caFile`. */
  mtlsPort: number;
  /** The PEM certificate the TLS inputs present (self-signed, for 127.0.0.1 and localhost): the CA to trust. */
  caFile: string;
  /** A client certificate and key signed by that CA, for `mtlsPort`. */
  clientCertFile: string;
  clientKeyFile: string;
  /** The RFC 5424 lines received so far (every program's; filter by APP-NAME). */
  received(): Promise<string[]>;
  /** SIGTERM, and waits for the process to go. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and file. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}>;

export async function startRsyslog(): Promise<Rsyslog> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ildflow-rsyslog-'));
  const caFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const [udpPort, tcpPort, tlsPort, mtlsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  // One self-signed certificate is the CA and the server's; the client's is signed by it.
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  const clientCertFile = path.join(dir, 'client-cert.pem');
  const clientKeyFile = path.join(dir, 'client-key.pem');
  const csr = path.join(dir, 'client.csr');
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', clientKeyFile, '-out', csr, '-subj', '/CN=ildflow-test-client');
  openssl('x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', keyFile, '-CAcreateserial', '-out', clientCertFile, '-days', '2');
  const out = path.join(dir, 'received.log');
  const conf = path.join(dir, 'rsyslog.conf');
  // maxMessageSize must come before the inputs; an entry listing 500 case ids is ~20 KB.
  await writeFile(
    conf,
    [
      `global(workDirectory="${dir}" maxMessageSize="64k" defaultNetstreamDriverCAFile="${caFile}" defaultNetstreamDriverCertFile="${caFile}" defaultNetstreamDriverKeyFile="${keyFile}")`,
      'module(load="imudp")',
      'module(load="imtcp")',
      `input(type="imudp" address="127.0.0.1" port="${udpPort}")`,
      `input(type="imtcp" address="127.0.0.1" port="${tcpPort}")`,
      `input(type="imtcp" address="127.0.0.1" port="${tlsPort}" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")`,
      // Senders must present a certificate that chains to the CA (RFC 5425 §4.2).
      `input(type="imtcp" address="127.0.0.1" port="${mtlsPort}" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")`,
      `action(type="omfile" file="${out}" template="RSYSLOG_SyslogProtocol23Format")`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | null = null;
  let stderr = '';

  const received = async () => (existsSync(out) ? (await readFile(out, 'utf8')).split('\n').filter(Boolean) : []);

  async function start(): Promise<void> {
    stderr = '';
    const c = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d) => (stderr += String(d)));
    child = c;
    try {
      for (const port of [tcpPort, tlsPort, mtlsPort]) await until(`rsyslogd on ${port}`, () => (c.exitCode === null ? canConnect(port) : Promise.reject(new Error(stderr))), 10_000);
      // UDP has no handshake: a marker datagram, sent until it shows up in the file, says the input is bound.
      const marker = `ready-${Date.now()}`;
      await until('rsyslogd on udp', async () => (await sendUdp(udpPort, `<14>1 - - probe - - - ${marker}`), (await received()).some((l) => l.includes(marker))), 10_000, 100);
    } catch (err) {
      await stop(c, 'SIGKILL');
      throw new Error(`rsyslogd did not start: ${stderr}`, { cause: err });
    }
  }

  await start();
  return {
    udpPort,
    tcpPort,
    tlsPort,
    mtlsPort,
    caFile,
    clientCertFile,
    clientKeyFile,
    received,
    start,
    async stop() {
      if (child) await stop(child, 'SIGTERM');
      child = null;
    },
    async close() {
      if (child) await stop(child, 'SIGTERM');
      child = null;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function sendUdp(port: number, text: string): Promise<void> {
  const s = createSocket('udp4');
  return new Promise((resolve) => s.send(text, port, '127.0.0.1', () => (s.close(), resolve())));
}
