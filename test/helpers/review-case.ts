/**
 * A case ready for review through the real pipeline, and the real Chromium that reviews it: a generated UIP
 * chest CT in the folder PACS, its order posted by the orderer, the case awaited to `awaiting_review`; Debian's
 * Chromium through playwright-core in a throwaway profile (PEERS: no browser download).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { TOKENS, waitForStatus, type Harness } from './pipeline-harness.js';

export type ReviewCasePatient = Readonly<{ id: string; name: string; birthDate: string; sex: 'F' | 'M' }>;

/** Orders an analysis of a new phantom study for `patient`; the case id once it awaits review. */
export async function orderReviewCase(h: Harness, o: { patient: ReviewCasePatient; orderId: string; seed: number; size?: number; priority?: string }): Promise<string> {
  const { patient } = o;
  await generatePhantom({
    dir: join(h.pacsDir, o.orderId), pattern: 'uip', seed: o.seed, rows: o.size ?? 128, columns: o.size ?? 128, slices: 64, sliceThicknessMm: 2.5,
    patient: { id: patient.id, name: patient.name, birthDate: patient.birthDate.replaceAll('-', ''), sex: patient.sex },
    study: { accessionNumber: `ACC-${o.orderId}`, studyDate: '20261015' },
  });
  const created = await h.call('POST', '/v1/cases', TOKENS.orderer, {
    order: { id: o.orderId, orderedAt: '2026-11-27T09:00:00Z', priority: o.priority ?? 'routine', orderingProvider: { npi: '1245319599', name: 'Lee Park, MD' }, indications: ['J84.10'] },
    patient,
    coverage: { payer: 'medicare', abn: { signed: true, signedAt: '2026-11-27' } },
  });
  const id = created.body.id as string;
  await waitForStatus(h, id, ['awaiting_review']);
  return id;
}

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function openChromium(): Promise<{ ctx: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'ildflow-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true, viewport: { width: 1360, height: 980 } });
  return {
    ctx,
    async close() {
      await ctx.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
