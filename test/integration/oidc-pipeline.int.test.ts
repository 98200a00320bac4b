/**
 * A physician signed in at the hospital's OpenID Provider works a case end to end (docs/security.md
 * "Sign-in (OpenID Connect)"): the real runtime (API and every worker) with ILDFLOW_OIDC_ISSUER pointing at a
 * real oidc-provider, a folder PACS with a generated chest CT. The physician is in no users file: the verified
 * SR's verifying observer, the PDF's signature line and the charge's physician are the physician of the token.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerUserId } from '../../shared/auth/provider-claims.js';
import { REPORT_ARTIFACTS } from '../../shared/reports/report-refs.js';
import { startProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { startHarness, TOKENS, waitForStatus, type Harness } from '../helpers/pipeline-harness.js';
import { orderReviewCase } from '../helpers/review-case.js';

const run = promisify(execFile);
const PHYSICIAN = { name: 'Kim Sato, MD', roles: ['radiologist'], npi: '1553820675' };

describe('a provider-signed-in physician through the pipeline', () => {
  let op: TestProvider;
  let h: Harness;
  let id: string;

  beforeAll(async () => {
    op = await startProvider({ ksato: PHYSICIAN });
    h = await startHarness({ ILDFLOW_OIDC_ISSUER: op.issuer });
    id = await orderReviewCase(h, { patient: { id: 'MRN-OIDC-1', name: 'BERG^ANNA', birthDate: '1958-03-12', sex: 'F' }, orderId: 'ORD-OIDC-1', seed: 7 });
  });
  afterAll(async () => {
    await h?.close();
    await op?.stop();
  });

  it('signs as the token’s physician: the SR’s verifying observer, the PDF and the charge name them', async () => {
    const token = await op.signIn('ksato');
    expect((await h.call('POST', `/v1/cases/${id}/claim`, token, {})).status).toBe(200);
    const signed = await h.call('POST', `/v1/cases/${id}/review`, token, { decision: 'accept', attestation: true });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    const billed = await waitForStatus(h, id, ['billed']);
    expect(billed.review.signer).toEqual({ id: providerUserId(op.issuer, 'ksato'), name: 'Kim Sato, MD', npi: '1553820675' });

    // PS3.3 C.17.2 SR Document General Module: Verifying Observer Sequence (0040,A073), its name (0040,A075).
    const sr = join(h.dataDir, 'cases', id, 'artifacts', REPORT_ARTIFACTS.srFinal);
    const observer = (await run('dcmdump', ['+P', '0040,a073', '+P', '0040,a075', sr])).stdout;
    expect(observer).toContain('Sato^Kim');
    const pdf = (await run('pdftotext', ['-layout', join(h.dataDir, 'cases', id, 'artifacts', REPORT_ARTIFACTS.pdf), '-'])).stdout;
    expect(pdf).toContain('Kim Sato, MD, NPI 1553820675');

    const feed = await h.call('GET', '/v1/billing/events?limit=100', TOKENS.billing);
    const charge = feed.body.events.find((e: { event: { caseId: string } }) => e.event.caseId === id).event;
    expect(charge.documentation.review.physician).toMatchObject({ npi: '1553820675', name: 'Kim Sato, MD' });
  });
});
