/**
 * One header parse per received instance (docs/design.md §8): a receiver keeps the first bytes of each
 * instance as it streams to disk (HEADER_PROBE_BYTES, what the reader itself would read first), parses the
 * header from them when the instance ends, and hands the result to the spool check, which then neither
 * opens nor re-reads the file. Only the parsed header is kept, never the bytes, so memory stays flat as the
 * series grows. Anything the prefix does not settle (a compressed file to decode, a long header, a refusal)
 * is left to the spool check, which reads the written file as before.
 */
import { HEADER_PROBE_BYTES, readInstanceHeaderFromPrefix, type InstanceHeader } from '../dicom/read-instance.js';

/** What the stream already established about one spooled file: its header and its size on disk. */
export type KnownInstance = Readonly<{ header: InstanceHeader; bytes: number }>;

/** Spooled file name → what its receiver read; files missing from the map are read by the spool check. */
export type KnownInstances = Map<string, KnownInstance>;

export class HeadCapture {
  private readonly pieces: Buffer[] = [];
  private kept = 0;
  private total = 0;

  constructor(first?: Buffer) {
    if (first) this.push(first);
  }

  /** Notes `chunk`; keeps a copy of it only while the prefix is short (the chunk itself may be reused). */
  push(chunk: Uint8Array): void {
    this.total += chunk.byteLength;
    if (this.kept >= HEADER_PROBE_BYTES) return;
    const take = Math.min(chunk.byteLength, HEADER_PROBE_BYTES - this.kept);
    this.pieces.push(Buffer.from(chunk.subarray(0, take)));
    this.kept += take;
  }

  /** Every byte pushed, kept or not: the file's size once the instance has ended. */
  get bytes(): number {
    return this.total;
  }

  /** The first bytes, joined (one copy of at most HEADER_PROBE_BYTES). */
  prefix(): Buffer {
    return this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.kept);
  }

  /** The uncompressed instance's header, or null when the spool check must read the file. */
  known(): KnownInstance | null {
    const header = readInstanceHeaderFromPrefix(this.prefix(), this.total);
    return header ? { header, bytes: this.total } : null;
  }
}
