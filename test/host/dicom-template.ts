// Many small DICOM files fast: one dcmjs-written CT slice per size, with fixed-width
// placeholders (study, instance, patient, position) patched per file. Same-length values,
// so no element length changes. For the study database benchmark and scale tests.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

interface Dcmjs {
  data: {
    DicomDict: new (meta: unknown) => { dict: unknown; write(): ArrayBuffer };
    DicomMetaDictionary: { denaturalizeDataset(dataset: Record<string, unknown>): unknown };
  };
}
const dcmjs = createRequire(import.meta.url)('dcmjs') as Dcmjs;

// Fixed-width placeholders, patched per file (same length, so no element length changes).
export const STUDY = '1.2.826.0.1.3680043.8.498.9.SSSSSS';
const SERIES = `${STUDY}.1`;
const SOP = `${STUDY}.1.IIIIII`;
const PATIENT_ID = 'BENCH-PPPPPP';
const POSITION_Z = 'ZZZZZZ';

function template(size: number): Buffer {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
    MediaStorageSOPInstanceUID: SOP,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    ImplementationClassUID: '1.2.826.0.1.3680043.8.498.1',
  });
  const dict = new DicomDict(meta);
  const pixels = new Uint16Array(size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) & 0x0fff;
  dict.dict = DicomMetaDictionary.denaturalizeDataset({
    SpecificCharacterSet: 'ISO_IR 100',
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
    SOPInstanceUID: SOP,
    StudyDate: '20240301',
    StudyTime: '093000',
    AccessionNumber: 'ACC12345',
    Modality: 'CT',
    Manufacturer: 'Bench Medical',
    StudyDescription: 'CT CHEST WITH CONTRAST',
    SeriesDescription: 'Axial 0.625mm',
    PatientName: `Bench^${PATIENT_ID}`,
    PatientID: PATIENT_ID,
    PatientBirthDate: '19600101',
    PatientSex: 'F',
    SliceThickness: '0.625',
    StudyInstanceUID: STUDY,
    SeriesInstanceUID: SERIES,
    SeriesNumber: '1',
    InstanceNumber: '1',
    ImagePositionPatient: ['-175', '-175', POSITION_Z],
    ImageOrientationPatient: ['1', '0', '0', '0', '1', '0'],
    FrameOfReferenceUID: '1.2.826.0.1.3680043.8.498.9.1',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: size,
    Columns: size,
    PixelSpacing: ['0.68', '0.68'],
    BitsAllocated: 16,
    BitsStored: 12,
    HighBit: 11,
    PixelRepresentation: 0,
    RescaleIntercept: '-1024',
    RescaleSlope: '1',
    PixelData: [pixels.buffer],
    _vrMap: { PixelData: 'OW' },
  });
  return Buffer.from(dict.write());
}

function patch(bytes: Buffer, placeholder: string, value: string, at: number[]): void {
  for (const offset of at) bytes.write(value, offset, 'latin1');
  if (value.length !== placeholder.length) throw new Error(`${value} does not fit ${placeholder}`);
}

function offsetsOf(bytes: Buffer, text: string): number[] {
  const found: number[] = [];
  for (let at = bytes.indexOf(text, 0, 'latin1'); at >= 0; at = bytes.indexOf(text, at + 1, 'latin1')) found.push(at);
  return found;
}

/** `count` files, `perStudy` slices per study (one series each), in folders of 1,000. */
export function generate(folder: string, count: number, size: number, perStudy: number): void {
  if (existsSync(join(folder, '.complete'))) return;
  rmSync(folder, { recursive: true, force: true });
  const base = template(size);
  const pad = (n: number) => String(n).padStart(6, '0');
  const studyAt = offsetsOf(base, 'SSSSSS');
  const sopAt = offsetsOf(base, 'IIIIII');
  const patientAt = offsetsOf(base, 'PPPPPP');
  const zAt = offsetsOf(base, POSITION_Z);
  for (let k = 0; k < count; k++) {
    const dir = join(folder, `d${Math.floor(k / 1000)}`);
    if (k % 1000 === 0) mkdirSync(dir, { recursive: true });
    const study = Math.floor(k / perStudy);
    const bytes = Buffer.from(base);
    patch(bytes, 'SSSSSS', pad(study), studyAt);
    patch(bytes, 'IIIIII', pad(k), sopAt);
    patch(bytes, 'PPPPPP', pad(study % 1000), patientAt);
    patch(bytes, POSITION_Z, pad((k % perStudy) * 2), zAt);
    writeFileSync(join(dir, `f${k}.dcm`), bytes);
  }
  writeFileSync(join(folder, '.complete'), '');
}

export function listFiles(folder: string, count: number): string[] {
  return Array.from({ length: count }, (_, k) => join(folder, `d${Math.floor(k / 1000)}`, `f${k}.dcm`));
}

