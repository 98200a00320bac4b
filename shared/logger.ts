/**
 * Structured logging (pino). Logs carry ids (case, trace, job), never PHI: patient names, birth dates and
 * MRNs are redacted by path wherever they might be attached, and free text is never logged raw.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths that could hold PHI if an object is ever logged whole (docs/design.md §6). */
export const PHI_PATHS = [
  'patient',
  '*.patient',
  '*.*.patient',
  'patientId',
  '*.patientId',
  'patientName',
  '*.patientName',
  'birthDate',
  '*.birthDate',
  'memberId',
  '*.memberId',
  'body',
  'req.body',
  'req.headers.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'authorization',
];

export function createLogger(opts: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'ildflow',
      level: opts.level ?? 'info',
      redact: { paths: PHI_PATHS, censor: '[REDACTED]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}
