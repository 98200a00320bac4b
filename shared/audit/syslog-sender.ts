/**
 * Sends the audit trail's syslog copy (ILDFLOW_AUDIT_SYSLOG, docs/operations.md "The audit trail"). The
 * daily files are the record and syslog is a copy: `send` never blocks, never throws and never waits for
 * the peer, so an outage cannot hold up or lose an entry in the files. While the peer is away, entries
 * wait in a bounded in-memory backlog (the oldest dropped first, counted and logged) and the connection is
 * retried with a doubling backoff. TCP and TLS keep one connection and frame by octet counting
 * (syslog-message.ts); UDP sends one datagram per entry and cannot know whether it arrived.
 *
 * Plain syslog has no acknowledgement (RFC 6587, RFC 5425): a write the kernel took can still be lost
 * when the peer goes away (a receiver that closes with unread data resets the connection). So when the
 * connection drops, what was written in the last `resendWindowMs` is sent again after the reconnect:
 * a receiver may see an entry twice — the same seq and hash, so it is plain to see — rather than not at
 * all. A peer that vanishes without closing (a lost host) is noticed only by TCP keepalive, later than
 * that window: entries written meanwhile are lost to the copy, never to the files.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Logger } from 'pino';
import { octetCountedFrame, syslogMessage, type SyslogOrigin } from './syslog-message.js';
import type { SyslogTarget } from './syslog-target.js';

/** What `/metrics` shows of the copy (shared/metrics.ts). */
export type SyslogCopyState = Readonly<{ backlog: number; connected: boolean; droppedNow: number }>;

export type SyslogSenderOptions = Readonly<{
  target: SyslogTarget;
  origin: SyslogOrigin;
  /** Entries kept in memory while the peer is away; past it the oldest is dropped. */
  backlogMax: number;
  /**
   * TLS (RFC 5425): the PEM CA certificate(s) the peer's certificate must chain to (default: Node's bundled
   * CAs), and the client certificate and key to present to a peer that authenticates its senders.
   */
  tls?: Readonly<{ ca?: string; cert?: string; key?: string }>;
  logger: Pick<Logger, 'info' | 'warn'>;
  observe?: (state: SyslogCopyState) => void;
  /** First reconnect delay, doubling up to `maxBackoffMs`. */
  firstBackoffMs?: number;
  maxBackoffMs?: number;
  connectTimeoutMs?: number;
  /** What was written this long before the connection dropped is sent again after the reconnect. */
  resendWindowMs?: number;
}>;

export type SyslogSender = Readonly<{
  /** Queues the lines (audit entries, in chain order) for the peer; returns at once. */
  send(lines: readonly string[]): void;
  /** `sent` counts writes, so an entry sent again after a reconnect (`resent`) counts twice. */
  stats(): Readonly<{ sent: number; resent: number; dropped: number; backlog: number; connected: boolean }>;
  /** Sends what is queued, waiting at most `timeoutMs` for the peer, then closes. */
  close(timeoutMs?: number): Promise<void>;
}>;

/** How long a connection must last for the reconnect backoff to start again from its first delay. */
const STABLE_MS = 5_000;

export function createSyslogSender(opts: SyslogSenderOptions): SyslogSender {
  return opts.target.transport === 'udp' ? createUdpSender(opts) : createStreamSender(opts);
}

/** The message of one line, or null (logged) when the line is not an entry: a copy never throws. */
function messageOf(line: string, opts: SyslogSenderOptions): string | null {
  try {
    return syslogMessage(line, opts.origin);
  } catch (err) {
    opts.logger.warn({ err: (err as Error).message }, 'audit syslog: a line that is not an audit entry was not sent');
    return null;
  }
}

function createStreamSender(opts: SyslogSenderOptions): SyslogSender {
  const { target, logger } = opts;
  const first = opts.firstBackoffMs ?? 500;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  const backlog: Buffer[] = [];
  /** Frames handed to the socket whose write has not completed: put back in front if the socket dies. */
  const inflight: Buffer[] = [];
  /** Frames written in the last resendWindowMs, oldest first: sent again if the connection drops. */
  const recent: { frame: Buffer; at: number }[] = [];
  const resendWindowMs = opts.resendWindowMs ?? 2_000;
  let resent = 0;
  let socket: Socket | null = null;
  let connected = false;
  let blocked = false;
  let closing = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | null = null;
  let sent = 0;
  let dropped = 0;
  /** The outage is logged when it starts and ends, drops at most once a minute: never once per entry. */
  let outage: { since: number; dropped: number } | null = null;
  let dropWarnedAt = -Infinity;
  let idle: (() => void) | null = null;

  const observe = (droppedNow = 0) => opts.observe?.({ backlog: backlog.length + inflight.length, connected, droppedNow });

  function bound() {
    let n = 0;
    while (backlog.length + inflight.length > opts.backlogMax && backlog.length) {
      backlog.shift();
      n++;
    }
    if (!n) return;
    dropped += n;
    if (outage) outage.dropped += n;
    if (Date.now() - dropWarnedAt >= 60_000) {
      logger.warn({ backlogMax: opts.backlogMax, dropped }, 'audit syslog backlog full: dropping the oldest entries from the syslog copy (the audit files still hold them)');
      dropWarnedAt = Date.now();
    }
    observe(n);
  }

  function pump() {
    if (!socket || !connected) return;
    while (backlog.length && !blocked) {
      const frame = backlog.shift()!;
      inflight.push(frame);
      const s = socket;
      blocked = !s.write(frame, (err) => {
        if (err || s !== socket) return; // the close handler puts it back
        inflight.splice(inflight.indexOf(frame), 1);
        const now = Date.now();
        recent.push({ frame, at: now });
        while (recent.length && recent[0]!.at < now - resendWindowMs) recent.shift();
        sent++;
        if (!backlog.length && !inflight.length) idle?.();
      });
    }
    observe();
  }

  function open() {
    timer = null;
    const s =
      target.transport === 'tls'
        ? connectTls({ host: target.host, port: target.port, ...opts.tls, minVersion: 'TLSv1.2', ...(isIP(target.host) ? {} : { servername: target.host }) })
        : connectTcp({ host: target.host, port: target.port });
    socket = s;
    let connectedAt = 0;
    s.setTimeout(opts.connectTimeoutMs ?? 10_000, () => {
      if (!connected) s.destroy(new Error('connect timed out'));
    });
    s.once(target.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      s.setTimeout(0);
      s.setKeepAlive(true, 30_000);
      connected = true;
      connectedAt = Date.now();
      if (outage) logger.info({ downMs: Date.now() - outage.since, dropped: outage.dropped, backlog: backlog.length + inflight.length }, 'audit syslog reachable again: sending the backlog');
      outage = null;
      pump();
    });
    s.on('drain', () => {
      blocked = false;
      pump();
    });
    s.on('data', () => {}); // a syslog receiver sends nothing back (RFC 6587, RFC 5425)
    let lastError: Error | null = null;
    s.on('error', (err) => (lastError = err));
    s.once('close', () => {
      if (socket !== s) return;
      socket = null;
      connected = false;
      blocked = false;
      const since = Date.now() - resendWindowMs;
      const again = recent.splice(0).filter((r) => r.at >= since).map((r) => r.frame);
      resent += again.length;
      backlog.unshift(...again, ...inflight.splice(0));
      if (!outage) {
        outage = { since: Date.now(), dropped: 0 };
        if (!closing)
          logger.warn(
            { target: `${target.transport}://${target.host}:${target.port}`, err: lastError?.message, backlogMax: opts.backlogMax },
            'audit syslog unreachable: entries wait in memory and are retried (the audit files still get every entry)',
          );
      }
      bound();
      observe();
      // The backoff starts again only after a connection that lasted: a peer that accepts and at once
      // closes (a balancer with no backend, a refused client certificate) is retried ever more slowly.
      if (connectedAt && Date.now() - connectedAt >= STABLE_MS) attempt = 0;
      if (!closing) {
        timer = setTimeout(open, Math.min(maxBackoff, first * 2 ** attempt++));
        timer.unref();
      }
    });
  }

  open();
  return {
    send(lines) {
      for (const line of lines) {
        const msg = messageOf(line, opts);
        if (msg !== null) backlog.push(octetCountedFrame(msg));
      }
      bound();
      pump();
    },
    stats: () => ({ sent, resent, dropped, backlog: backlog.length + inflight.length, connected }),
    async close(timeoutMs = 2_000) {
      if (backlog.length || inflight.length) await new Promise<void>((resolve) => ((idle = resolve), setTimeout(resolve, timeoutMs).unref()));
      closing = true;
      if (timer) clearTimeout(timer);
      const s = socket;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
        setTimeout(() => s.destroy(), 1_000).unref();
      });
    },
  };
}

/** UDP (RFC 5426): one datagram per message; a lost datagram is not known, a refused send is counted. */
function createUdpSender(opts: SyslogSenderOptions): SyslogSender {
  const { target, logger } = opts;
  const socket: UdpSocket = createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
  socket.on('error', () => {}); // per-send errors arrive in the send callbacks
  socket.unref();
  let sent = 0;
  let dropped = 0;
  let failing = false;
  let pending = 0;
  let idle: (() => void) | null = null;
  return {
    send(lines) {
      for (const line of lines) {
        const msg = messageOf(line, opts);
        if (msg === null) continue;
        pending++;
        socket.send(Buffer.from(msg, 'utf8'), target.port, target.host, (err) => {
          pending--;
          if (err) {
            dropped++;
            if (!failing) logger.warn({ err: err.message }, 'audit syslog (udp): an entry could not be sent (the audit files still hold it)');
            failing = true;
            opts.observe?.({ backlog: pending, connected: false, droppedNow: 1 });
          } else {
            sent++;
            if (failing || sent === 1) opts.observe?.({ backlog: pending, connected: true, droppedNow: 0 });
            failing = false;
          }
          if (!pending) idle?.();
        });
      }
    },
    stats: () => ({ sent, resent: 0, dropped, backlog: pending, connected: !failing }),
    async close(timeoutMs = 2_000) {
      if (pending) await new Promise<void>((resolve) => ((idle = resolve), setTimeout(resolve, timeoutMs).unref()));
      socket.close();
    },
  };
}
