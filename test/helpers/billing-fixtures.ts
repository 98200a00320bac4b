/** Billing test helpers: seed a dead letter the way a delivery loop writes one (fenced by its lock). */
import { randomUUID } from 'node:crypto';
import type { CaseStore } from '../../shared/store/case-store.js';
import type { DeadLetter } from '../../shared/store/delivery-store.js';

export async function seedDeadLetter(store: Pick<CaseStore, 'delivery'>, patch: Partial<DeadLetter> = {}): Promise<DeadLetter> {
  const output = patch.output ?? 'mllp';
  const eventId = patch.eventId ?? `chg-${randomUUID()}-0877T`;
  const dl: DeadLetter = {
    id: `${output}-${eventId}`,
    output,
    eventId,
    cursor: '0-1',
    caseId: eventId.slice(4, 40),
    kind: 'charge',
    codes: ['0877T'],
    reason: 'rejected: AR: unknown patient',
    attempts: 1,
    deadAt: new Date().toISOString(),
    status: 'dead',
    replays: 0,
    ...patch,
  };
  const token = randomUUID();
  // Another test's loop may hold the lock of this output: seed under a private output name then.
  const lockName = (await store.delivery.acquireLock(output, token, 5_000)) ? output : `${output}-seed-${token}`;
  if (lockName !== output) await store.delivery.acquireLock(lockName, token, 5_000);
  await store.delivery.deadLetter(lockName, token, dl);
  await store.delivery.releaseLock(lockName, token);
  return dl;
}
