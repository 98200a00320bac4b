/**
 * The per-instance size cap on what a PACS sends (ILDFLOW_MAX_INSTANCE_BYTES, docs/pacs.md): a WADO-RS part
 * or a C-STORE data set above it is cut off as it arrives — never buffered or written whole — and the
 * retrieval fails for good with a clear reason (the same instance is as large on every retry).
 */
import { InvalidDicom } from '../errors.js';

/**
 * 64 MiB: the largest image the reader accepts (4096 × 4096 16-bit pixels, 32 MiB) with its header and room
 * to spare; a 512 × 512 CT slice is about 0.5 MiB.
 */
export const DEFAULT_MAX_INSTANCE_BYTES = 64 * 1024 * 1024;

export function instanceTooLarge(cap: number, where: string): InvalidDicom {
  return new InvalidDicom(`${where}: an instance of the series is larger than the per-instance cap of ${cap} bytes (ILDFLOW_MAX_INSTANCE_BYTES); it was refused and not kept`);
}
