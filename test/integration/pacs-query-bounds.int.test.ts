/**
 * PACS queries are exact and bounded (issue 11, F8), against a real Orthanc over DICOMweb and DIMSE:
 * QIDO-RS asks with `limit` (PS3.18 §8.3.4.4) and C-FIND stops after a bound, and a PACS with more
 * matches than the bound is a clear, non-retried error — never a silently truncated list from which a
 * prior CT is picked. Values with DICOM wildcard or delimiter characters are refused before any query.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDicomWebSource } from '../../shared/pacs/dicomweb-source.js';
import { createDimseSource } from '../../shared/pacs/dimse-source.js';
import { TooManyMatches, UnmatchableQuery } from '../../shared/pacs/pacs-errors.js';
import { generatePhantom } from '../../shared/phantom/generate-phantom.js';
import { recordingForwarder } from '../helpers/forwarder.js';
import { isOrthancInstalled, startOrthanc, type Orthanc } from '../helpers/orthanc.js';

const PATIENT = `MRN-BOUNDS-${process.pid}`;
const STUDIES = 3;

describe.skipIf(!isOrthancInstalled())('PACS query bounds (real Orthanc)', () => {
  let orthanc: Orthanc;
  let work: string;
  let forwarder: Awaited<ReturnType<typeof recordingForwarder>>;
  const retry = { attempts: 1, delayMs: 10 };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ildflow-bounds-'));
    orthanc = await startOrthanc({ modalities: { ILDFLOW: ['ILDFLOW', '127.0.0.1', 1] } });
    for (let seed = 1; seed <= STUDIES; seed++) {
      const r = await generatePhantom({ dir: join(work, `s${seed}`), pattern: 'normal', seed: 900 + seed, rows: 32, columns: 32, slices: 4, patient: { id: PATIENT, name: 'TEST^BOUNDS', birthDate: '19500101', sex: 'F' } });
      orthanc.storescu(r.files);
    }
    forwarder = await recordingForwarder(new URL(orthanc.dicomWebUrl).origin);
  });

  afterAll(async () => {
    await forwarder?.close();
    await orthanc?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const dimseUrl = () => `dicom://ORTHANC@127.0.0.1:${orthanc.dicomPort}?retrieve=c-get&calling=ILDFLOW`;

  it('asks QIDO-RS with limit, and answers more matches than the bound with TooManyMatches', async () => {
    const dicomweb = (studies: number) => createDicomWebSource(`${forwarder.url}/dicom-web`, { auth: orthanc.auth, retry, maxMatches: { studies } });
    expect(await dicomweb(STUDIES).findStudies({ patientId: PATIENT })).toHaveLength(STUDIES);
    const studyQuery = forwarder.urls().findLast((u) => u.includes('/dicom-web/studies?'))!;
    expect(new URL(studyQuery, 'http://x').searchParams.get('limit')).toBe(String(STUDIES + 1));
    const err = await dicomweb(STUDIES - 1).findStudies({ patientId: PATIENT }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(TooManyMatches);
    expect((err as TooManyMatches).retryable).toBe(false);
    expect((err as Error).message).toMatch(/more than 2 studies/);
  });

  it('puts limit on the series query too', async () => {
    const [study] = await createDicomWebSource(`${forwarder.url}/dicom-web`, { auth: orthanc.auth, retry }).findStudies({ patientId: PATIENT });
    await createDicomWebSource(`${forwarder.url}/dicom-web`, { auth: orthanc.auth, retry }).findSeries(study!.studyInstanceUid);
    const seriesQuery = forwarder.urls().findLast((u) => /\/studies\/[0-9.]+\/series\?/.test(u))!;
    expect(Number(new URL(seriesQuery, 'http://x').searchParams.get('limit'))).toBeGreaterThan(0);
  });

  it('stops C-FIND after the bound with TooManyMatches, and answers within it', async () => {
    const dimse = (studies: number) => createDimseSource(dimseUrl(), { retry, maxMatches: { studies } });
    expect(await dimse(STUDIES).findStudies({ patientId: PATIENT })).toHaveLength(STUDIES);
    const err = await dimse(STUDIES - 1).findStudies({ patientId: PATIENT }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(TooManyMatches);
    expect((err as Error).message).toMatch(/more than 2 studies/);
  });

  it.each([['*'], ['?'], ['\\']])('refuses a patient id or accession number with %s before querying either protocol', async (ch) => {
    const before = forwarder.count();
    for (const source of [createDicomWebSource(`${forwarder.url}/dicom-web`, { auth: orthanc.auth, retry }), createDimseSource(dimseUrl(), { retry })]) {
      await expect(source.findStudies({ patientId: `MRN-BOUNDS${ch}` })).rejects.toBeInstanceOf(UnmatchableQuery);
      await expect(source.findStudies({ accessionNumber: `A${ch}` })).rejects.toBeInstanceOf(UnmatchableQuery);
    }
    expect(forwarder.count()).toBe(before);
  });
});
