/**
 * An EHR's side of the order interface for tests: ORM^O01 / OMI^O23 messages as an interface engine writes
 * them (docs/ehr.md's sample), and an MLLP client that keeps its connection, pipelines frames and reads the
 * ACKs in order — or sends raw bytes, to play a broken peer.
 */
import net from 'node:net';
import { frameMllp, MllpDecoder } from '../../shared/billing/hl7/mllp.js';

export type OrmOptions = Partial<{
  type: 'ORM^O01' | 'OMI^O23';
  controlId: string;
  sender: string;
  control: 'NW' | 'CA' | string;
  orderId: string;
  pid3: string;
  name: string;
  birthDate: string;
  sex: string;
  service: string;
  accession: string;
  studyUid: string;
  npi: string;
  diagnoses: string[];
  insurance: string;
  priority: string;
  charset: string;
  /** Extra segments, appended. */
  extra: string[];
}>;

/** A NW order as an Epic-style interface engine sends it, with every field ildflow maps. */
export function ormMessage(o: OrmOptions = {}): string {
  const type = o.type ?? 'ORM^O01';
  const orderId = o.orderId ?? 'ORD-1001';
  const segments = [
    `MSH|^~\\&|${o.sender ?? 'EPIC'}|HOSP|ILDFLOW|RAD|20261127090000||${type}${type === 'OMI^O23' ? '^OMI_O23' : '^ORM_O01'}|${o.controlId ?? 'MSG0001'}|P|2.5.1|||AL|NE||${o.charset ?? 'UNICODE UTF-8'}`,
    `PID|1||${o.pid3 ?? 'MRN-001^^^HOSP^MR~999-99-9999^^^SSA^SS'}||${o.name ?? 'DOE^JANE^Q'}||${o.birthDate ?? '19610402'}|${o.sex ?? 'F'}`,
    'PV1|1|O|PULM^^^HOSP||||1245319599^PARK^LEE^^^^MD^^^^^^NPI',
    in1(o.insurance ?? 'MEDICARE', '1EG4TE5MK73'),
    fields('ORC', { 1: o.control ?? 'NW', 2: `${orderId}^EPIC`, 7: `^^^^^${o.priority ?? 'R'}`, 9: '20261127090000', 12: `${o.npi ?? '1245319599'}^PARK^LEE^^^^MD^^^^^^NPI` }),
    ...(type === 'OMI^O23' ? [`TQ1|1||||||20261127090000||${o.priority ?? 'R'}`] : []),
    `OBR|1|${orderId}^EPIC||${o.service ?? '0877T^AI quantitative chest CT analysis, previously acquired^C4'}|||20261127090000|||||||||1245319599^PARK^LEE^^^^MD^^^^^^NPI||${o.accession ?? ''}`,
    ...(o.diagnoses ?? ['J84.10^Idiopathic pulmonary fibrosis^I10', 'R0600^Dyspnea, unspecified^I10']).map((d, i) => `DG1|${i + 1}||${d}`),
    ...(type === 'OMI^O23' && (o.accession || o.studyUid) ? [`IPC|${o.accession ?? ''}||${o.studyUid ?? ''}|||CT`] : []),
    ...(o.extra ?? []),
  ];
  return segments.join('\r') + '\r';
}

/** A segment from numbered fields. */
export function fields(name: string, values: Readonly<Record<number, string>>): string {
  const f: string[] = [name];
  for (const [n, v] of Object.entries(values)) f[Number(n)] = v;
  return Array.from(f, (v) => v ?? '').join('|');
}

/** IN1 with IN1-2 plan id, IN1-3 company id and IN1-36 policy (member) number. */
function in1(plan: string, member: string): string {
  return fields('IN1', { 1: '1', 2: plan, 3: plan, 4: `${plan} plan`, 36: member });
}

export type MllpConnection = Readonly<{
  /** Frames a message (UTF-8, or the given bytes) and sends it without waiting. */
  send(message: string | Buffer): void;
  /** Sends bytes as they are (no frame). */
  raw(bytes: Buffer): void;
  /** The next ACK received (bounded wait), as Latin-1 text when `latin1`, else UTF-8. */
  nextAck(timeoutMs?: number): Promise<string>;
  /** Resolves when the listener closed the connection (bounded). */
  closed(timeoutMs?: number): Promise<boolean>;
  end(): void;
}>;

export async function connectMllp(url: string, opts: { latin1?: boolean } = {}): Promise<MllpConnection> {
  const m = /^mllp:\/\/([^:/]+):(\d+)$/.exec(url)!;
  const socket = net.createConnection({ host: m[1]!, port: Number(m[2]) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const decoder = new MllpDecoder();
  const acks: string[] = [];
  let waiter: (() => void) | null = null;
  let isClosed = false;
  socket.on('data', (chunk: Buffer) => {
    for (const f of decoder.pushFrames(chunk)) acks.push(f.toString(opts.latin1 ? 'latin1' : 'utf8'));
    waiter?.();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    isClosed = true;
    waiter?.();
  });
  const until = async (ok: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!ok() && Date.now() < deadline) await new Promise<void>((r) => ((waiter = r), setTimeout(r, 50)));
    return ok();
  };
  return {
    send: (message) => void socket.write(frameMllp(message)),
    raw: (bytes) => void socket.write(bytes),
    async nextAck(timeoutMs = 10_000) {
      if (!(await until(() => acks.length > 0, timeoutMs))) throw new Error(`no ACK within ${timeoutMs} ms${isClosed ? ' (connection closed)' : ''}`);
      return acks.shift()!;
    },
    closed: (timeoutMs = 5_000) => until(() => isClosed, timeoutMs),
    end: () => void socket.destroy(),
  };
}
