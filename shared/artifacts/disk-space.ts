/**
 * Free space on the artifact store's volume (ILDFLOW_DATA_DIR) against its watermark, ILDFLOW_DISK_MIN_FREE
 * (docs/operations.md "Disk watermarks"): bytes or a percentage of the volume, by default the larger of
 * 10 % and 5 GB. A retrieval does not start below it, and one that reaches it while streaming is stopped
 * and discarded, so a full disk never surfaces as a write error in the middle of a transfer.
 */
import { mkdir, statfs } from 'node:fs/promises';

/** The watermark: the larger of a byte count and a percentage of the volume's size. */
export type MinFree = Readonly<{ bytes: number; percent: number }>;

export const DEFAULT_MIN_FREE: MinFree = { bytes: 5_000_000_000, percent: 10 };

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, KI: 1024, MI: 1024 ** 2, GI: 1024 ** 3, TI: 1024 ** 4 };

/** `12%`, `5000000000`, `5GB`, `20GiB` → a watermark; null when it is none of these. */
export function parseMinFree(text: string): MinFree | null {
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(text.trim());
  if (pct) return Number(pct[1]) <= 100 ? { bytes: 0, percent: Number(pct[1]) } : null;
  const b = /^(\d+(?:\.\d+)?)\s*(?:([KMGT]i?)B?)?$/i.exec(text.trim());
  const unit = UNITS[(b?.[2] ?? '').toUpperCase()];
  return b && unit ? { bytes: Math.round(Number(b[1]) * unit), percent: 0 } : null;
}

export type DiskReading = Readonly<{ freeBytes: number; totalBytes: number }>;

/** A reading against the watermark. `low`: below it. */
export type DiskState = DiskReading & Readonly<{ requiredBytes: number; low: boolean }>;

export function diskState(r: DiskReading, min: MinFree): DiskState {
  const requiredBytes = Math.max(min.bytes, Math.ceil((r.totalBytes * min.percent) / 100));
  return { ...r, requiredBytes, low: r.freeBytes < requiredBytes };
}

const gb = (n: number) => `${(n / 1e9).toFixed(1)} GB`;

/** For the timeline and the log: the numbers, never the path. */
export function describeShortage(s: DiskState): string {
  return `${gb(s.freeBytes)} free on the data volume, ${gb(s.requiredBytes)} required (ILDFLOW_DISK_MIN_FREE)`;
}

/** Reads the volume that holds `dir` (created if missing). Free space is what an unprivileged writer may use. */
export async function readDisk(dir: string): Promise<DiskReading> {
  await mkdir(dir, { recursive: true });
  const s = await statfs(dir);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
}

/** The write failed because the volume is full (POSIX ENOSPC), anywhere in the error's cause chain. */
export function isNoSpace(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 10; e = (e as { cause?: unknown }).cause, i++)
    if ((e as { code?: unknown }).code === 'ENOSPC') return true;
  return false;
}

export type DiskWatch = Readonly<{ signal: AbortSignal; shortage(): DiskState | null; stop(): void }>;

/**
 * Watches the volume while a transfer streams: every `intervalMs` it reads the free space, and the first
 * time it is below the watermark it aborts `signal`, so the transfer stops and its spool is discarded.
 */
export function watchDisk(read: () => Promise<DiskReading>, min: MinFree, intervalMs: number): DiskWatch {
  const ctl = new AbortController();
  let low: DiskState | null = null;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || low) return;
    busy = true;
    read()
      .then((r) => {
        const s = diskState(r, min);
        if (s.low && !low) {
          low = s;
          ctl.abort(new Error(`the data volume ran short while retrieving: ${describeShortage(s)}`));
        }
      })
      .catch(() => {}) // an unreadable volume shows as write errors, which the transfer reports
      .finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return { signal: ctl.signal, shortage: () => low, stop: () => clearInterval(timer) };
}
