/** Builds the image source named by ILDFLOW_PACS (DESIGN.md §5 "Configuration"). */
import { fileURLToPath } from 'node:url';
import { ConfigInvalid } from '../errors.js';
import { createFolderSource } from './folder-source.js';
import type { ImageSource } from './source.js';

export function createImageSource(url: string): ImageSource {
  if (url.startsWith('file://')) return createFolderSource(fileURLToPath(url));
  // DICOMweb and DIMSE sources are built by the PACS-integration issue (#3); until they land, say so
  // at start-up instead of failing on the first order.
  throw new ConfigInvalid([`ILDFLOW_PACS: ${url.split(':')[0]} sources are not available in this build; use file:///dir`]);
}
