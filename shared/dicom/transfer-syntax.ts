/**
 * The one transfer-syntax table of ildflow (docs/style.md §11 "DICOM in one toolkit"): what each syntax is
 * called, whether its pixels can be read in place, and whether decode-instance.ts can decode it. UIDs and
 * names from PS3.6 Annex A; the encodings from PS3.5 §10 (native), §A.4 (encapsulated) and §A.5 (deflated).
 */

export const TS = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflatedExplicitLittle: '1.2.840.10008.1.2.1.99',
  explicitBig: '1.2.840.10008.1.2.2',
  rleLossless: '1.2.840.10008.1.2.5',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSv1: '1.2.840.10008.1.2.4.70',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  htj2kLossless: '1.2.840.10008.1.2.4.201',
  htj2kLosslessRpcl: '1.2.840.10008.1.2.4.202',
  htj2k: '1.2.840.10008.1.2.4.203',
} as const;

/**
 * How a syntax's pixels reach the engine: `native` ones are read in place (little endian only); `codecs`
 * ones are encapsulated (PS3.5 §A.4) and decoded by dcmjs-codecs' WebAssembly codecs; `none` are refused
 * with their name.
 */
type Syntax = Readonly<{ name: string; decoder: 'native' | 'codecs' | 'none'; encapsulated: boolean }>;

const SYNTAXES: Readonly<Record<string, Syntax>> = {
  [TS.implicitLittle]: { name: 'Implicit VR Little Endian', decoder: 'native', encapsulated: false },
  [TS.explicitLittle]: { name: 'Explicit VR Little Endian', decoder: 'native', encapsulated: false },
  // The whole data set is deflated (PS3.5 §A.5), so not even its header can be checked before inflating.
  [TS.deflatedExplicitLittle]: { name: 'Deflated Explicit VR Little Endian', decoder: 'none', encapsulated: false },
  [TS.explicitBig]: { name: 'Explicit VR Big Endian (retired)', decoder: 'none', encapsulated: false },
  [TS.rleLossless]: { name: 'RLE Lossless', decoder: 'codecs', encapsulated: true },
  // 8 bits per sample (PS3.5 §A.4.1): the codec decodes it, and the reader then refuses it, since CT stores 12–16 bits.
  [TS.jpegBaseline]: { name: 'JPEG Baseline (Process 1)', decoder: 'codecs', encapsulated: true },
  // The codecs have no 12-bit lossy JPEG nor the non-SV1 lossless predictors.
  [TS.jpegExtended]: { name: 'JPEG Extended (Process 2 & 4)', decoder: 'none', encapsulated: true },
  [TS.jpegLossless]: { name: 'JPEG Lossless (Process 14)', decoder: 'none', encapsulated: true },
  [TS.jpegLosslessSv1]: { name: 'JPEG Lossless SV1', decoder: 'codecs', encapsulated: true },
  [TS.jpegLsLossless]: { name: 'JPEG-LS Lossless', decoder: 'codecs', encapsulated: true },
  [TS.jpegLsNearLossless]: { name: 'JPEG-LS Near-Lossless', decoder: 'codecs', encapsulated: true },
  [TS.jpeg2000Lossless]: { name: 'JPEG 2000 Lossless', decoder: 'codecs', encapsulated: true },
  [TS.jpeg2000]: { name: 'JPEG 2000', decoder: 'codecs', encapsulated: true },
  [TS.htj2kLossless]: { name: 'HTJ2K Lossless', decoder: 'codecs', encapsulated: true },
  [TS.htj2kLosslessRpcl]: { name: 'HTJ2K Lossless RPCL', decoder: 'codecs', encapsulated: true },
  [TS.htj2k]: { name: 'HTJ2K', decoder: 'codecs', encapsulated: true },
};

/** A name for messages, so a refusal says what the file is rather than only a UID. */
export function describeTransferSyntax(uid: string): string {
  const known = SYNTAXES[uid]?.name;
  if (known) return known;
  if (/^1\.2\.840\.10008\.1\.2\.4\.(9[2-9])$/.test(uid)) return 'JPEG 2000 (multi-component)';
  if (/^1\.2\.840\.10008\.1\.2\.4\.(5\d|6\d)$/.test(uid)) return 'JPEG (retired process)';
  if (/^1\.2\.840\.10008\.1\.2\.4\.(10\d)$/.test(uid)) return 'MPEG';
  if (/^1\.2\.840\.10008\.1\.2\.4\.(11\d)$/.test(uid)) return 'JPEG XL';
  return 'unrecognised';
}

/** Uncompressed little-endian syntaxes whose pixel bytes can be read in place (PS3.5 §10.1, §A.2). */
export function isNative(uid: string): boolean {
  return SYNTAXES[uid]?.decoder === 'native';
}

/** Encapsulated syntaxes that decode-instance.ts decodes to Explicit VR Little Endian. */
export function isDecodable(uid: string): boolean {
  return SYNTAXES[uid]?.decoder === 'codecs';
}

/** The encapsulated syntaxes decode-instance.ts decodes. */
export const DECODABLE_TRANSFER_SYNTAXES: readonly string[] = Object.keys(SYNTAXES).filter((uid) => SYNTAXES[uid]!.decoder === 'codecs');

/** Every syntax whose pixels ildflow can use, native first: what a C-STORE receiver accepts (PS3.4 B.2). */
export const USABLE_TRANSFER_SYNTAXES: readonly string[] = [TS.explicitLittle, TS.implicitLittle, ...DECODABLE_TRANSFER_SYNTAXES];

/** The names of the decodable syntaxes, for a refusal that says what would have worked. */
export function decodableNames(): string[] {
  return Object.values(SYNTAXES).filter((s) => s.decoder === 'codecs').map((s) => s.name);
}
