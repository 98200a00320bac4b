/** A real Orthanc for integration tests: the process helper lives beside the PACS code so the bench can use it too. */
import { isOrthancInstalled as installed } from '../../shared/pacs/orthanc-process.js';

export * from '../../shared/pacs/orthanc-process.js';

/**
 * Whether the Orthanc tests can run here. A developer machine without Orthanc skips them; in CI (where
 * .ci/run installs Orthanc) a missing Orthanc is an error, so the PACS tests can never silently not run.
 */
export function isOrthancInstalled(): boolean {
  const ok = installed();
  if (!ok && process.env.CI) throw new Error('Orthanc is not installed, but CI must run the PACS tests: see .ci/run');
  return ok;
}
