import type { RequestHandler } from 'express';
import { z } from 'zod';
import { DicomUid } from '../../../shared/domain/case.js';
import { parseInput, traceIdOf, userOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { resumeWaiting } from './resume-waiting.js';

/** Empty DICOM attributes arrive as "" (type 2 attributes may be zero-length, PS3.5 §7.4): read them as absent. */
const Opt = (max: number) => z.preprocess((v) => (v === '' || v === null ? undefined : v), z.string().trim().min(1).max(max).optional());

export const StudyAvailableBody = z.object({
  studyInstanceUid: DicomUid,
  patientId: Opt(64),
  accessionNumber: Opt(16),
});

/** The body Orthanc's OnStableStudy Lua hook posts (docs/peers.md). */
export const OrthancStableStudyBody = z.object({
  event: z.string().min(1).max(64),
  orthancStudyId: z.string().min(1).max(64),
  studyInstanceUID: DicomUid,
  accessionNumber: Opt(16),
  patientID: Opt(64),
});

/** POST /v1/triggers/study-available: 202 with the number of cases resumed. */
export const studyAvailable =
  (deps: Pick<ApiDeps, 'store' | 'pipeline'>): RequestHandler =>
  async (req, res) => {
    const b = parseInput(StudyAvailableBody, req.body);
    const ev = { ...b, source: 'study-available trigger' };
    const resumed = await resumeWaiting(deps, ev, userOf(res).id, traceIdOf(res));
    res.status(202).json({ resumed: resumed.length, caseIds: resumed });
  };

/** POST /v1/triggers/orthanc: only StableStudy resumes cases; other events are acknowledged and ignored. */
export const orthancStableStudy =
  (deps: Pick<ApiDeps, 'store' | 'pipeline'>): RequestHandler =>
  async (req, res) => {
    const b = parseInput(OrthancStableStudyBody, req.body);
    if (b.event !== 'StableStudy') return void res.status(202).json({ resumed: 0, caseIds: [], ignored: b.event });
    const ev = { studyInstanceUid: b.studyInstanceUID, patientId: b.patientID, accessionNumber: b.accessionNumber, source: `orthanc ${b.orthancStudyId}` };
    const resumed = await resumeWaiting(deps, ev, userOf(res).id, traceIdOf(res));
    res.status(202).json({ resumed: resumed.length, caseIds: resumed });
  };
