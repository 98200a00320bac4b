/**
 * Billing: turns a signed case into exactly one charge event (docs/design.md §5 "Billing"). The charge is
 * appended to the billing outbox stream in the same atomic step as the move `signed → billed`, and its
 * event id is deterministic, so a retried, replayed or concurrent job can never bill twice. Delivery to
 * the billing system's outputs (HL7 MLLP, webhook, FHIR) reads from that outbox.
 */
import { buildChargeEvent } from '../../shared/billing/charge-event.js';
import { billSigned } from '../../shared/lifecycle/index.js';
import { reportRefsOf } from '../../shared/reports/report-refs.js';
import type { StageJob } from '../../shared/queues.js';
import type { WorkerDeps } from '../deps.js';

const ACTOR = 'worker:billing';

export async function bill(job: StageJob, deps: WorkerDeps): Promise<void> {
  // Billed already, or rejected: nothing to charge (billSigned answers null).
  await deps.store.update(job.caseId, ACTOR, (c, now) =>
    billSigned(c, now, (signed) =>
      // Throws ChargeNotBuildable (not retried) when documentation is missing: the case records why.
      buildChargeEvent(signed, {
        mode: deps.config.ILDFLOW_BILLING_MODE,
        now,
        advisoryTable: deps.config.payerAdvisories,
        reports: reportRefsOf(signed), // the verified SR's SOP Instance UID and the PDF's SHA-256
      }),
    ),
  );
}
