/**
 * The acknowledgment of a received order (HL7 v2.5.1 §2.9.2, original mode): MSA-1 AA once the case is
 * stored, AE with one ERR segment per problem (ERR-2 location, ERR-3 HL7 table 0357 code, ERR-4 severity,
 * ERR-8 text for people), AR for a message ildflow does not take. MSA-2 echoes the order's MSH-10, the
 * sender and receiver of MSH-3…6 swap, and the ACK is written in the character set the order came in.
 */
import { randomUUID } from 'node:crypto';
import type { AckCode } from '../billing/hl7/mllp.js';
import { ENCODING_CHARACTERS, FIELD_SEPARATOR } from '../billing/hl7/escape.js';
import { comps, hl7DateTime, segment } from '../billing/hl7/segment.js';
import { ERROR_CODES, type OrderProblem } from './order-message.js';

export type AckHeader = Readonly<{
  controlId: string;
  triggerEvent: string;
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  processingId: string;
  version: string;
}>;

/** An ACK for a frame whose MSH could not be read: there is nothing to echo. */
export const UNREADABLE: AckHeader = { controlId: '', triggerEvent: '', sendingApplication: '', sendingFacility: '', receivingApplication: '', receivingFacility: '', processingId: 'P', version: '2.5.1' };

export function buildOrderAck(h: AckHeader, code: AckCode, problems: readonly OrderProblem[], opts: Readonly<{ now: Date; charsetName: string }>): string {
  const msh =
    `MSH${FIELD_SEPARATOR}${ENCODING_CHARACTERS}${FIELD_SEPARATOR}` +
    segment('', [
      comps(h.receivingApplication || 'ILDFLOW'),
      comps(h.receivingFacility),
      comps(h.sendingApplication),
      comps(h.sendingFacility),
      hl7DateTime(opts.now),
      '',
      comps('ACK', h.triggerEvent, 'ACK'),
      comps(`ACK${randomUUID().replaceAll('-', '').slice(0, 17)}`), // MSH-10: ST 20
      comps(h.processingId || 'P'),
      comps(h.version || '2.5.1'),
      '', '', '', '', '',
      comps(opts.charsetName),
    ]).slice(1);
  const msa = segment('MSA', [code, comps(h.controlId)]);
  const errs = problems.map((p) =>
    segment('ERR', [
      '', // ERR-1: deprecated in v2.5.1
      p.location ? errorLocation(p.location) : '',
      comps(p.code, ERROR_CODES[p.code], 'HL70357'),
      'E', // ERR-4 severity: error
      '', '', '',
      comps(p.text), // ERR-8 user message
    ]),
  );
  return [msh, msa, ...errs].join('\r') + '\r';
}

/** ERL: segment id ^ sequence ^ field ^ field repetition ^ component (HL7 v2.5.1 §2.A.27). */
function errorLocation(l: NonNullable<OrderProblem['location']>): string {
  return [l.segment, String(l.sequence), String(l.field), ...(l.component ? ['1', String(l.component)] : [])].join('^');
}
