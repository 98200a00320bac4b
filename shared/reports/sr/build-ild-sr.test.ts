import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { makeSignedCase } from '../../billing/test-fixtures.js';
import { reportUids } from '../dicom-uids.js';
import { REPORT_ARTIFACTS } from '../report-refs.js';
import { studyContextFromCase } from '../study-context.js';
import { buildIldSr, COMPREHENSIVE_3D_SR, personName } from './build-ild-sr.js';
import { decimalString } from './content-items.js';

const NOW = new Date('2026-11-27T16:31:00Z');
function read(bytes: Uint8Array): Record<string, any> {
  const dict = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict);
}
const build = (phase: 'preliminary' | 'final', c = makeSignedCase()) => buildIldSr(c, { phase, now: NOW, study: studyContextFromCase(c) });

describe('buildIldSr', () => {
  it('writes an unverified, preliminary Comprehensive 3D SR with a TID 1500 root', () => {
    const ds = read(build('preliminary').bytes);
    expect(ds).toMatchObject({ SOPClassUID: COMPREHENSIVE_3D_SR, Modality: 'SR', VerificationFlag: 'UNVERIFIED', CompletionFlag: 'PARTIAL', PreliminaryFlag: 'PRELIMINARY', ValueType: 'CONTAINER' });
    expect(ds.ConceptNameCodeSequence[0]).toMatchObject({ CodeValue: '126000', CodingSchemeDesignator: 'DCM' });
    expect(ds.ContentTemplateSequence[0]).toMatchObject({ MappingResource: 'DCMR', TemplateIdentifier: '1500' });
    expect(ds.VerifyingObserverSequence).toBeUndefined();
    expect(ds.ContributingEquipmentSequence[0].PurposeOfReferenceCodeSequence[0]).toMatchObject({ CodeValue: '109102', CodeMeaning: 'Processing Equipment' });
  });

  it('verifies the final SR in the signer’s name and NPI, with the preliminary SR as predecessor', () => {
    const c = makeSignedCase();
    const ds = read(build('final', c).bytes);
    expect(ds).toMatchObject({ VerificationFlag: 'VERIFIED', CompletionFlag: 'COMPLETE', PreliminaryFlag: 'FINAL' });
    const v = ds.VerifyingObserverSequence[0];
    expect(JSON.stringify(v.VerifyingObserverName)).toContain('Reyes^Ada^^^MD');
    expect(v.VerifyingObserverIdentificationCodeSequence[0]).toMatchObject({ CodeValue: '1234567893', CodingSchemeDesignator: 'NPI' });
    expect(v.VerificationDateTime).toMatch(/^20261127163000/);
    const pred = ds.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0];
    expect(pred.ReferencedSOPInstanceUID).toBe(reportUids(c.id, c.attempt).srInstance('preliminary'));
  });

  it('codes the physician’s category when the result was amended, and every measurement in UCUM', () => {
    const c = makeSignedCase({ review: { ...makeSignedCase().review!, decision: 'amend', classification: { category: 'indeterminate', rationale: ['on my read'] } } });
    const ds = read(build('final', c).bytes);
    const flat = JSON.stringify(ds.ContentSequence);
    expect(flat).toContain('"CodeValue":"ILD-INDET"');
    expect(flat).not.toContain('"CodeValue":"ILD-UIP"');
    const units: string[] = [];
    const walk = (items: any[] = []): void => {
      for (const i of items) {
        if (i.ValueType === 'NUM') {
          expect(i.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodingSchemeDesignator).toBe('UCUM');
          units.push(i.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue);
        }
        walk(i.ContentSequence);
      }
    };
    walk(ds.ContentSequence);
    expect(units.length).toBe(17);
    expect(new Set(units)).toEqual(new Set(['mL', "[hnsf'U]", '1', '%']));
  });

  it('gives the same UIDs on a retry, and different ones for another case', () => {
    expect(build('final').sopInstanceUid).toBe(build('final').sopInstanceUid);
    expect(build('final', makeSignedCase({ id: 'c-other' })).sopInstanceUid).not.toBe(build('final').sopInstanceUid);
    expect(build('final').sopInstanceUid.length).toBeLessThanOrEqual(64);
  });

  it('refuses a final SR without a review', () => {
    expect(() => build('final', makeSignedCase({ review: undefined }))).toThrow(/no signed review/);
  });
});

describe('SR value helpers', () => {
  it.each([
    ['Ada Reyes, MD', 'Reyes^Ada^^^MD'],
    ['Ben Okafor', 'Okafor^Ben'],
    ['DOE^JANE', 'DOE^JANE'],
  ])('personName(%s) = %s', (name, pn) => expect(personName(name)).toBe(pn));
  it.each([[3820, '3820'], [-742.5, '-742.5'], [0.123456789, '0.123457'], [1e20, '100000000000000000000'.length > 16 ? '1.00000000e+20' : '']])('decimalString(%s) fits DS: %s', (v, s) => {
    expect(decimalString(v)).toBe(s);
    expect(decimalString(v).length).toBeLessThanOrEqual(16);
  });
});

describe('buildIldSr with the engine label map', () => {
  const SEG = { sopClassUid: '1.2.840.10008.5.1.4.1.1.66.4', sopInstanceUid: '2.25.77', seriesInstanceUid: '2.25.78', studyInstanceUid: '2.25.79' };
  const withMap = () => {
    const c = makeSignedCase();
    return {
      ...c,
      labelMap: { status: 'stored' as const, sopInstanceUid: SEG.sopInstanceUid, segments: [{ number: 1, key: 'normal' }, { number: 3, key: 'reticulation' }] },
      artifacts: [...c.artifacts, { name: REPORT_ARTIFACTS.labelMap, mediaType: 'application/dicom', sha256: 'x', bytes: 1, createdAt: NOW.toISOString(), dicom: SEG }],
    };
  };
  const groups = (ds: Record<string, any>) => {
    const measurements = ds.ContentSequence.find((i: any) => i.ConceptNameCodeSequence[0].CodeValue === '126010');
    return measurements.ContentSequence.filter((g: any) => g.ContentTemplateSequence?.[0]?.TemplateIdentifier === '1411');
  };

  it("gives each class of the SEG a TID 1411 group with its volume and share of lung, referencing the SEG's segment (PS3.16 TID 1411 rows 3, 8, 9)", () => {
    const c = withMap();
    const ds = read(build('final', c).bytes);
    const [normal, retic] = groups(ds);
    const item = (g: any, codeValue: string) => g.ContentSequence.find((i: any) => i.ConceptNameCodeSequence[0].CodeValue === codeValue);
    expect(item(retic, '121071').ConceptCodeSequence[0]).toMatchObject({ CodeValue: '112113', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Reticular pattern' });
    expect(item(retic, '121191').ReferencedSOPSequence[0]).toMatchObject({ ReferencedSOPClassUID: SEG.sopClassUid, ReferencedSOPInstanceUID: SEG.sopInstanceUid, ReferencedSegmentNumber: 3 });
    expect(item(retic, '121232').UID).toBe(c.source!.seriesInstanceUid);
    const q = c.result!.quantities;
    expect(Number(item(retic, '118565006').MeasuredValueSequence[0].NumericValue)).toBeCloseTo((q.lungVolumeMl * q.extents.reticulation) / 100, 3);
    expect(Number(item(retic, 'LUNG-SHARE').MeasuredValueSequence[0].NumericValue)).toBe(q.extents.reticulation);
    expect(item(normal, '121191').ReferencedSOPSequence[0].ReferencedSegmentNumber).toBe(1);
    const evidence = ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence;
    expect(evidence.map((s: any) => s.SeriesInstanceUID)).toContain(SEG.seriesInstanceUid);
  });

  it('has no per-class groups without a stored map, and says why', () => {
    const c = { ...makeSignedCase(), labelMap: { status: 'none' as const, reason: 'example engine returned no label map: no overlay is shown' } };
    const ds = read(build('final', c).bytes);
    expect(groups(ds)).toEqual([]);
    expect(JSON.stringify(ds)).toContain('returned no label map: no overlay is shown');
  });
});
