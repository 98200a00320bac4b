/**
 * The audit trail's files: one JSON-lines file per UTC day, `<ILDFLOW_DATA_DIR>/audit/audit-YYYY-MM-DD.jsonl`,
 * each line an entry of the chain exactly as it was written to Redis (audit-chain.ts). Lines are only ever
 * appended, each batch flushed to disk (fsync) before the export records it as written.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseRecord, sha256Hex, type ChainHead } from './audit-chain.js';

const FILE = /^audit-(\d{4}-\d{2}-\d{2})\.jsonl$/;

/** How much of a file's end is read to find its last line: far above one entry (a list of 500 case ids is ~20 KB). */
const TAIL_BYTES = 256 * 1024;

export const auditDir = (dataDir: string) => join(dataDir, 'audit');
export const auditFileName = (day: string) => `audit-${day}.jsonl`;

/** The day files in the folder, oldest first (the names sort by date). */
export async function auditFiles(dir: string): Promise<{ day: string; name: string }[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  return names.flatMap((name) => {
    const m = FILE.exec(name);
    return m ? [{ day: m[1]!, name }] : [];
  }).sort((a, b) => a.name.localeCompare(b.name));
}

/** The last entry in the files (the chain's head there) and its day, or null when there are none. */
export type FilesTail = ChainHead & Readonly<{ day: string }>;

/**
 * The last complete entry of the newest file (of a day before `beforeDay`, when given). `repair`: a torn
 * last line (a crash in the middle of a write) is cut off — it was never recorded as written, so the
 * export writes it again from Redis. Without it the files are only read.
 */
export async function filesTail(dir: string, opts: { beforeDay?: string; repair?: boolean } = {}): Promise<FilesTail | null> {
  const files = (await auditFiles(dir)).filter((f) => !opts.beforeDay || f.day < opts.beforeDay);
  for (let i = files.length - 1; i >= 0; i--) {
    const { day, name } = files[i]!;
    const path = join(dir, name);
    const text = await readTail(path);
    const end = text.lastIndexOf('\n');
    if (opts.repair && end < text.length - 1) await truncate(path, (await stat(path)).size - Buffer.byteLength(text.slice(end + 1)));
    const lines = text.slice(0, end + 1).split('\n').filter(Boolean);
    const last = lines.at(-1);
    const rec = last ? parseRecord(last) : null;
    if (last && rec) return { seq: rec.seq, hash: sha256Hex(last), day };
  }
  return null;
}

async function readTail(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const text = buf.toString('utf8');
    // A chunk that starts inside a line: drop that partial first line (unless it is the whole file).
    return length < size ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    await fh.close();
  }
}

/** Appends lines to a day's file and flushes them to disk before returning. */
export async function appendLines(dir: string, day: string, lines: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const fh = await open(join(dir, auditFileName(day)), 'a', 0o640);
  try {
    await fh.write(lines.map((l) => `${l}\n`).join(''));
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Every line of the files from `fromDay` on (all when undefined), in order, with where it is. */
export async function* readLines(dir: string, fromDay?: string): AsyncGenerator<{ file: string; line: number; text: string }> {
  for (const { day, name } of await auditFiles(dir)) {
    if (fromDay && day < fromDay) continue;
    const rl = createInterface({ input: createReadStream(join(dir, name), 'utf8'), crlfDelay: Infinity });
    let line = 0;
    for await (const text of rl) {
      line++;
      yield { file: name, line, text };
    }
  }
}
