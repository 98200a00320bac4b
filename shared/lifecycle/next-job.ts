/**
 * What follows a case's status (docs/design.md §2): the case store is the record and the queues are derived from
 * it. `nextJob` is the one place that says which stage job a case in its current status calls for; the API
 * handlers, the stage workers and the reconciler (workers/reconcile) all enqueue what it returns, under the
 * job ids it names, so a job re-created after a crash or a lost queue is the same job, never a second one.
 * Pure: no Redis, no BullMQ.
 */
import type { Case, CaseStatus } from '../domain/case.js';
import type { QueueName, ReportPhase } from '../queues.js';
import { REPORT_ARTIFACTS } from '../reports/report-refs.js';

export type PlannedJob = Readonly<{
  queue: QueueName;
  caseId: string;
  /** The case's attempt: an admin retry bumps it, so every stage gets fresh job ids. */
  attempt: number;
  phase?: ReportPhase;
  /** Tells apart several jobs of one stage in one attempt (a resume, the awaiting-study deadline, an admin's retry of a signed case's stage). */
  tag?: string;
  /** Not to run before this time (ISO 8601): the awaiting-study deadline. */
  notBefore?: string;
}>;

/** The signed documents the PACS must hold before the case is billed (workers/report). */
export const FINAL_PACS_OBJECTS: readonly string[] = [REPORT_ARTIFACTS.srFinal, REPORT_ARTIFACTS.pdfDicom];

/** The statuses in which a case waits for a stage job (the others wait for a person, or are over). */
export const STATUSES_WITH_JOBS: readonly CaseStatus[] = ['queued', 'awaiting_study', 'retrieving', 'analyzing', 'signed'];

/** The final documents are written and the PACS accepted them: the charge may be documented with them. */
export function finalDocumentsStored(c: Case): boolean {
  return FINAL_PACS_OBJECTS.every((n) => c.artifacts.some((a) => a.name === n && a.storedToPacsAt));
}

/**
 * The stage job a case in its current status calls for, or null (a physician's turn, or the case is over).
 * - queued → retrieve; retrieving → the same retrieve job (or the resume's, when a PACS event resumed it, or
 *   the next disk-space check's, while it waits for disk space);
 * - awaiting_study → the deadline job that ends the bounded wait;
 * - analyzing → analyze until the engine's result is stored, then the preliminary report;
 * - signed → the final report until the PACS holds it, then billing (tagged with the admin's retry, when a
 *   failed one was retried: retry-case.ts).
 */
export function nextJob(c: Case): PlannedJob | null {
  const base = { caseId: c.id, attempt: c.attempt };
  switch (c.status) {
    case 'queued':
      return { ...base, queue: 'retrieve' };
    case 'retrieving':
      // Waiting for disk space (disk-wait.ts): the re-check job, unless a PACS event resumed the case since.
      if (c.diskWait && (c.resumeVersion === undefined || c.diskWait.version > c.resumeVersion))
        return { ...base, queue: 'retrieve', tag: `disk-${c.diskWait.checks}`, notBefore: c.diskWait.retryAt };
      return c.resumeVersion !== undefined ? { ...base, queue: 'retrieve', tag: `resume-v${c.resumeVersion}` } : { ...base, queue: 'retrieve' };
    case 'awaiting_study':
      return c.awaitingStudyUntil
        ? { ...base, queue: 'retrieve', tag: `deadline-${Date.parse(c.awaitingStudyUntil)}`, notBefore: c.awaitingStudyUntil }
        : null;
    case 'analyzing':
      if (!c.source) return null;
      return c.result ? { ...base, queue: 'report', phase: 'preliminary' } : { ...base, queue: 'analyze' };
    case 'signed': {
      const retried = c.stageRetryVersion !== undefined ? { tag: `retry-v${c.stageRetryVersion}` } : {};
      return finalDocumentsStored(c) ? { ...base, queue: 'billing', ...retried } : { ...base, queue: 'report', phase: 'final', ...retried };
    }
    default:
      return null;
  }
}
