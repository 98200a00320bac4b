/**
 * The signed result for the EHR (docs/ehr.md "Results"): one outbox event per version of the report — the
 * signed report (OBR-25 `F`), then one per later addendum (`C`, corrected) — written in the same atomic step
 * as the case change that makes it (shared/store/scripts.ts), with an event id derived from the case, attempt
 * and revision, so a retried step never writes it twice. The event is a snapshot: the ORU^R01 is built from
 * it alone (and the PDF it names by SHA-256), so every redelivery of one version is the same message.
 */
import { z } from 'zod';
import type { Case } from '../domain/case.js';
import { CATEGORY_TEXT } from '../reports/category-text.js';
import { addendumLines } from '../reports/addendum-text.js';
import { QUANTITIES, UCUM_UNIT } from '../reports/fhir-diagnostic-report.js';
import { REPORT_ARTIFACTS } from '../reports/report-refs.js';
import type { Change, OutboxEvent } from '../store/case-store.js';

export const ResultEvent = z.object({
  kind: z.literal('result'),
  eventId: z.string().min(1),
  caseId: z.string().min(1),
  /** OBR-25 / OBX-11 (HL7 table 0123 / 0085): F final, C corrected (an addendum). */
  resultStatus: z.enum(['F', 'C']),
  /** The number of addenda the version includes (0: the signed report as signed). */
  revision: z.number().int().min(0),
  orderId: z.string(),
  accessionNumber: z.string().optional(),
  patient: z.object({ id: z.string(), name: z.string(), birthDate: z.string(), sex: z.string() }),
  orderingProvider: z.object({ npi: z.string(), name: z.string() }),
  /** OBR-7: when the analysis ran; OBR-22: when this version was signed. */
  analysedAt: z.string(),
  resultAt: z.string(),
  signer: z.object({ npi: z.string(), name: z.string() }),
  category: z.object({ code: z.string(), text: z.string() }),
  quantities: z.array(z.object({ code: z.string(), text: z.string(), value: z.number(), unit: z.string() })),
  reportText: z.array(z.string()),
  pdf: z.object({ artifact: z.string(), sha256: z.string() }),
});
export type ResultEvent = z.infer<typeof ResultEvent>;

export const resultEventId = (c: Pick<Case, 'id' | 'attempt'>, revision: number) => `result-${c.id}-a${c.attempt}-r${revision}`;

/** The report text (OBX TX): the physician's decision and comment, the attestation, the addenda. */
function reportText(c: Case): string[] {
  const r = c.review!;
  const lines = [`ILD CT pattern (ATS/ERS/JRS/ALAT 2018): ${CATEGORY_TEXT[r.classification.category]}`, `Decision: ${r.decision}, signed ${r.signedAt} by ${r.signer.name}, NPI ${r.signer.npi}`];
  if (r.comment) lines.push(`Comment: ${r.comment}`);
  lines.push(`Attestation: ${r.attestationText}`);
  for (const a of r.addenda) lines.push(...addendumLines(a));
  if (c.result) lines.push(`Engine: ${c.result.engine.name} ${c.result.engine.version} (${c.result.engine.regulatory.status === 'cleared' ? 'cleared device' : 'research use, not a cleared device'})`);
  return lines;
}

/**
 * The result event of the case's current version, or null when it has none to send (not signed, no PDF yet).
 * Its revision is the number of addenda; it is `F` when the EHR has no version yet, else `C`.
 */
export function resultEventOf(c: Case): OutboxEvent | null {
  const r = c.review;
  const pdf = c.artifacts.find((a) => a.name === REPORT_ARTIFACTS.pdf);
  if (!r || !c.result || !pdf) return null;
  const revision = r.addenda.length;
  const last = r.addenda.at(-1);
  const signer = [...r.addenda].reverse().find((a) => a.by.npi)?.by ?? r.signer;
  const event: ResultEvent = {
    kind: 'result',
    eventId: resultEventId(c, revision),
    caseId: c.id,
    // The first version the EHR gets is final, even when an addendum came before the report was written.
    resultStatus: c.resultEvents?.length ? 'C' : 'F',
    revision,
    orderId: c.order.id,
    ...(c.source?.accessionNumber ? { accessionNumber: c.source.accessionNumber } : {}),
    patient: c.patient,
    orderingProvider: c.order.orderingProvider,
    analysedAt: c.result.timings.finishedAt,
    resultAt: last?.at ?? r.signedAt,
    signer: { npi: signer.npi, name: signer.name },
    category: { code: `ct-pattern-${r.classification.category}`, text: CATEGORY_TEXT[r.classification.category] },
    quantities: QUANTITIES.map((q) => ({ code: q.id, text: q.display, value: q.value(c.result!), unit: UCUM_UNIT[q.unit].code })),
    reportText: reportText(c),
    pdf: { artifact: pdf.name, sha256: pdf.sha256 },
  };
  return { eventId: event.eventId, event, outbox: 'results' };
}

/**
 * `change` with the result version its case is now at added to the results outbox, once per version.
 * `signed`: the final report is written (the report worker, when ILDFLOW_RESULTS_MLLP is set); `addendum`: only
 * when the EHR already has a version, so a correction never overtakes the report it corrects.
 */
export function withResultEvent(change: Change, when: 'signed' | 'addendum'): Change {
  const c = change.next;
  if (when === 'addendum' && !c.resultEvents?.length) return change;
  const ev = resultEventOf(c);
  if (!ev || c.resultEvents?.includes(ev.eventId)) return change;
  return { ...change, next: { ...c, resultEvents: [...(c.resultEvents ?? []), ev.eventId] }, events: [...(change.events ?? []), ev] };
}
