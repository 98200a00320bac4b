import { describe, expect, it } from 'vitest';
import dicomParser from 'dicom-parser';
import { encodeFileMeta } from './file-meta.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from './write-part10.js';

describe('encodeFileMeta', () => {
  it('writes the preamble, DICM and a group 0002 that a Part 10 reader reads back, odd-length UIDs padded with NUL (PS3.10 §7.1)', () => {
    const bytes = encodeFileMeta({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '2.25.123', transferSyntaxUid: '1.2.840.10008.1.2' });
    expect(bytes.subarray(128, 132).toString('latin1')).toBe('DICM');
    const meta = dicomParser.readPart10Header(new Uint8Array(bytes) as never);
    expect(meta.string('x00020002')).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(meta.string('x00020003')).toBe('2.25.123');
    expect(meta.string('x00020010')).toBe('1.2.840.10008.1.2');
    expect(meta.string('x00020012')).toBe(IMPLEMENTATION_CLASS_UID);
    expect(meta.string('x00020013')).toBe(IMPLEMENTATION_VERSION);
    // The group length counts every byte after it, so nothing follows the group but the data set.
    expect(meta.uint32('x00020000')).toBe(bytes.length - 132 - 12);
    expect(bytes.length % 2).toBe(0);
  });
});
