/** Builds the image source named by ILDFLOW_PACS (docs/design.md §5 "Configuration"). */
import { fileURLToPath } from 'node:url';
import { ConfigInvalid } from '../errors.js';
import { createDicomWebSource } from './dicomweb-source.js';
import { createDimseSource } from './dimse-source.js';
import { createFolderSource } from './folder-source.js';
import type { RetryPolicy } from './retry-policy.js';
import type { ImageSource } from './source.js';

export type ImageSourceOptions = Readonly<{
  /** ILDFLOW_PACS_AUTH: `basic:user:password` or `bearer:token` (DICOMweb only). */
  auth?: string;
  /** Shorter in-process retries for tests; production uses DEFAULT_RETRY. */
  retry?: Partial<RetryPolicy>;
  /** ILDFLOW_MAX_INSTANCE_BYTES: the per-instance size cap of DICOMweb and DIMSE retrievals (instance-cap.ts). */
  maxInstanceBytes?: number;
}>;

export function createImageSource(url: string, opts: ImageSourceOptions = {}): ImageSource {
  if (url.startsWith('file://')) return createFolderSource(fileURLToPath(url));
  if (/^https?:\/\//.test(url)) return createDicomWebSource(url, opts);
  if (url.startsWith('dicom://')) return createDimseSource(url, opts);
  throw new ConfigInvalid([`ILDFLOW_PACS: ${url.split(':')[0]} is not a known source; use http(s)://…/dicom-web, dicom://AET@host:port?… or file:///dir`]);
}
