/**
 * The human-readable report (docs/design.md §5 "Reports"), with pdfkit: patient, study, the engine and its
 * regulatory status, the results table, a zone chart, the key images with their class overlay and legend,
 * the physician's decision, attestation and signature time, and the limitations. A preliminary PDF (no
 * review yet) says so on every page. Text uses the standard Helvetica font (WinAnsi), so characters
 * outside Latin-1 are replaced by their ASCII forms before drawing.
 */
import PDFDocument from 'pdfkit';
import type { Case } from '../../domain/case.js';
import { addendumLines } from '../addendum-text.js';
import { CATEGORY_TEXT } from '../category-text.js';
import { fibrosisExtentPercent } from '../key-quantities.js';
import { EXTENT_ORDER, LABEL_CLASSES } from '../../engines/label-classes.js';
import type { RenderedKeyImage } from '../key-image-png.js';
import { regulatoryText } from '../sr/build-ild-sr.js';

export type BuildPdfOptions = Readonly<{ now: Date; keyImages: readonly RenderedKeyImage[]; institutionName?: string }>;

const ASCII: Readonly<Record<string, string>> = { '−': '-', '–': '-', '—': '-', '≥': '>=', '≤': '<=', '×': 'x', '’': "'", '‘': "'", '“': '"', '”': '"', '…': '...' };
/** Helvetica in pdfkit covers WinAnsi only. */
export function pdfSafe(s: string): string {
  return s.replace(/[^\x20-\x7e\u00a0-\u00ff]/g, (ch) => ASCII[ch] ?? '?');
}

/** The engine's numbers as it gave them (it rounds), to at most `digits` decimals, so the PDF, SR and page agree. */
const fmt = (v: number, digits = 2) => String(Math.round(v * 10 ** digits) / 10 ** digits);
const isoDate = (da?: string) => (da && /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}` : da ?? 'unknown');

export async function buildReportPdf(c: Case, opts: BuildPdfOptions): Promise<Buffer> {
  const { result, source, review, patient, order } = c;
  if (!result || !source) throw new Error(`case ${c.id} has no result or source for a PDF`);
  const final = !!review;
  const doc = new PDFDocument({
    size: 'LETTER',
    margin: 48,
    info: {
      Title: `ILD quantitative CT analysis - ${c.id}`,
      Author: review ? pdfSafe(review.signer.name) : 'ildflow',
      Subject: 'Quantitative chest CT analysis for interstitial lung disease (CPT 0877T)',
      Creator: 'ildflow',
      CreationDate: opts.now,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (b: Buffer) => chunks.push(b));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const t = (s: string, o?: PDFKit.Mixins.TextOptions) => doc.text(pdfSafe(s), o);
  const heading = (s: string) => {
    doc.moveDown(0.6).font('Helvetica-Bold').fontSize(12).fillColor('#1f3a5f');
    t(s);
    doc.font('Helvetica').fontSize(10).fillColor('black').moveDown(0.2);
  };
  const kv = (rows: [string, string][]) => {
    for (const [k, v] of rows) {
      const y = doc.y;
      doc.font('Helvetica-Bold').text(pdfSafe(k), 48, y, { width: 150 });
      doc.font('Helvetica').text(pdfSafe(v), 200, y, { width: 360 });
      doc.x = 48;
    }
  };

  doc.font('Helvetica-Bold').fontSize(16).fillColor('#1f3a5f');
  t('Quantitative chest CT analysis for interstitial lung disease');
  doc.font('Helvetica').fontSize(10).fillColor(final ? '#1b5e20' : '#b71c1c');
  t(final ? `FINAL - ${review!.decision === 'reject' ? 'rejected' : 'signed'} by ${review!.signer.name}` : 'PRELIMINARY - not yet reviewed by a physician');
  doc.fillColor('black');

  heading('Patient and study');
  kv([
    ['Patient', `${patient.name.replace(/\^/g, ', ')}  (MRN ${patient.id})`],
    ['Birth date / sex', `${patient.birthDate} / ${patient.sex}`],
    ['Order', `${order.id}, ordered ${order.orderedAt} by ${order.orderingProvider.name} (NPI ${order.orderingProvider.npi})`],
    ['Indications', order.indications.join(', ')],
    ['Study', `${isoDate(source.studyDate)}, accession ${source.accessionNumber ?? 'n/a'}`],
    ['Series', `${source.seriesDescription ?? source.seriesInstanceUid}: ${source.sliceCount} slices, ${source.sliceThicknessMm ?? '?'} mm, kernel ${source.convolutionKernel ?? 'n/a'}`],
    ['Study UID', source.studyInstanceUid],
  ]);

  heading('Analysis engine');
  kv([
    ['Engine', `${result.engine.name} ${result.engine.version} (${result.engine.vendor})`],
    ['Regulatory status', regulatoryText(result)],
    ['Analysis run', result.timings.finishedAt],
    ['Image quality', result.quality.acceptable ? `acceptable${result.quality.flags.length ? ` (${result.quality.flags.join('; ')})` : ''}` : `NOT acceptable: ${result.quality.flags.join('; ')}`],
  ]);

  const category = review ? review.classification.category : result.classification.category;
  heading('Result');
  doc.font('Helvetica-Bold').fontSize(12);
  t(`${CATEGORY_TEXT[category]}`);
  doc.font('Helvetica').fontSize(10);
  if (review?.decision === 'amend') t(`Amended by the physician; the engine's category was: ${CATEGORY_TEXT[result.classification.category]}.`);
  for (const r of review ? review.classification.rationale : result.classification.rationale) t(`- ${r}`, { indent: 8 });

  const q = result.quantities;
  const rows: [string, string][] = [
    ['Lung volume', `${fmt(q.lungVolumeMl, 0)} mL`],
    ['Mean lung density', `${fmt(q.meanLungDensityHu, 0)} HU`],
    ['Fibrosis extent (reticulation + honeycombing)', `${fibrosisExtentPercent(q.extents)} %`],
    ...EXTENT_ORDER.map((c): [string, string] => [c.label, `${fmt(q.extents[c.key])} %`]),
    ['High-attenuation area (-600 to -250 HU)', `${fmt(q.haaPercent)} %`],
    ['Low-attenuation area (< -950 HU)', `${fmt(q.laa950Percent)} %`],
    ['Subpleural fraction of fibrosis', fmt(q.subpleuralFibrosisFraction, 2)],
    ['Histogram skewness / kurtosis', `${fmt(q.skewness, 2)} / ${fmt(q.kurtosis, 2)}`],
  ];
  heading('Measurements (% of lung volume)');
  let y = doc.y;
  rows.forEach(([k, v], i) => {
    if (i % 2 === 0) doc.rect(48, y - 2, 516, 14).fill('#f1f4f8').fillColor('black');
    doc.font('Helvetica').text(pdfSafe(k), 54, y, { width: 330 });
    doc.font('Helvetica-Bold').text(pdfSafe(v), 400, y, { width: 150, align: 'right' });
    y += 14;
  });
  doc.x = 48;
  doc.y = y + 4;

  heading('Fibrosis by zone (% of the zone\'s lung)');
  const zones: [string, number][] = [
    ['Upper', q.zones.upper.fibrosisPercent],
    ['Middle', q.zones.middle.fibrosisPercent],
    ['Lower', q.zones.lower.fibrosisPercent],
  ];
  const max = Math.max(10, ...zones.map(([, v]) => v));
  y = doc.y;
  for (const [name, v] of zones) {
    doc.font('Helvetica').fillColor('black').text(name, 54, y, { width: 60 });
    doc.rect(120, y, 340, 11).fill('#e3e8ef');
    doc.rect(120, y, Math.max(1, (v / max) * 340), 11).fill('#d55e00');
    doc.fillColor('black').text(`${fmt(v)} %`, 470, y, { width: 80 });
    y += 17;
  }
  doc.x = 48;
  doc.y = y + 4;

  // The overlay is the engine's label map (docs/design.md §5 "Label maps"); without one there is none, and
  // the report says so and why.
  const map = c.labelMap?.status === 'stored' ? c.labelMap : undefined;
  const noOverlay = c.labelMap && c.labelMap.status !== 'stored' ? c.labelMap.reason : map ? undefined : 'the engine returned no label map: no overlay is shown';
  if (opts.keyImages.length) {
    doc.addPage();
    heading(map ? "Key images (lung window W1500/L-600, the engine's label map)" : 'Key images (lung window W1500/L-600, no overlay)');
    const size = 160;
    let x = 48;
    y = doc.y;
    for (const k of opts.keyImages) {
      doc.image(k.png, x, y, { width: size, height: size });
      doc.fontSize(8).text(pdfSafe(`Slice ${k.keyImage.sliceIndex + 1} (${k.keyImage.zone} zone): ${k.keyImage.reason}`), x, y + size + 4, { width: size });
      x += size + 18;
      if (x + size > 564) {
        x = 48;
        y += size + 40;
      }
    }
    doc.fontSize(10);
    y = Math.max(doc.y, y + size + 36);
    let lx = 48;
    for (const l of map ? LABEL_CLASSES.filter((cls) => cls.rgb && map.segments.some((s) => s.key === cls.key)) : []) {
      doc.rect(lx, y, 10, 10).fill([l.rgb![0], l.rgb![1], l.rgb![2]]);
      doc.fillColor('black').fontSize(9).text(l.label, lx + 14, y, { width: 90 });
      lx += 100;
    }
    doc.x = 48;
    doc.y = y + 16;
    doc.fontSize(8).fillColor('#555');
    t(noOverlay ? pdfSafe(`No overlay: ${noOverlay}.`) : "The colours are the engine's own class of each voxel (its label map, a DICOM SEG); the measurements above are the engine's, over the whole volume.");
    doc.fillColor('black').fontSize(10);
  } else if (noOverlay) {
    t(pdfSafe(`No overlay: ${noOverlay}.`));
  }

  heading('Physician review');
  if (review) {
    kv([
      ['Decision', `${review.decision.toUpperCase()}${review.decision === 'amend' ? ` to ${CATEGORY_TEXT[review.classification.category]}` : ''}`],
      ['Physician', `${review.signer.name}, NPI ${review.signer.npi}`],
      ['Signed at', review.signedAt],
      ['Attestation', review.attestationText],
      ...(review.comment ? ([['Comment', review.comment]] as [string, string][]) : []),
      ['Result shown', `${review.shown.engineId} ${review.shown.engineVersion}, result SHA-256 ${review.shown.resultSha256.slice(0, 16)}...`],
    ]);
    for (const a of review.addenda) for (const line of addendumLines(a)) t(line);
  } else {
    t('Not yet reviewed. This preliminary result must not be used for patient care until a physician has reviewed and signed it.');
  }

  heading('Limitations');
  doc.fontSize(9);
  for (const s of [
    `The analysis was produced by ${result.engine.name} ${result.engine.version}: ${regulatoryText(result)}.`,
    'Quantities depend on slice thickness, reconstruction kernel, inspiration and noise; compare follow-up examinations only when they were acquired alike.',
    'The CT pattern follows the 2018 ATS/ERS/JRS/ALAT criteria from quantitative features alone; it does not replace the radiologist\'s reading of the images or a multidisciplinary discussion.',
    'Dependent density, motion and partial inspiration can be counted as ground glass or reticulation.',
  ])
    t(`- ${s}`, { indent: 8 });
  doc.fontSize(8).fillColor('#555').moveDown(1);
  t(`ildflow case ${c.id} - generated ${opts.now.toISOString()}${opts.institutionName ? ` - ${opts.institutionName}` : ''}`);
  doc.end();
  return done;
}
