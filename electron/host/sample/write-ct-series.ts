// Writes the phantom as a CT series: one DICOM Part 10 file per slice, CT Image
// Storage, Explicit VR Little Endian, with every module of the CT Image IOD
// filled in (checked with dciodvfy by the tests). Encoding is done by dcmjs.
//
// Numbering: InstanceNumber 1 is the most superior slice, as a scanner numbers a
// head-to-feet acquisition, so InstanceNumber order is the reverse of slice
// order; readers must sort by position, not by number or file name.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
// dcmjs ships no type declarations. Rather than a global `declare module` (which
// another part of the app might also declare), the few members used here are
// typed locally below and the import is cast to them.
// @ts-ignore -- untyped package, see DcmjsData
import * as dcmjsModule from 'dcmjs';
import { MAX_HU, MIN_HU, sliceZ, type Phantom, type PhantomGeometry } from './phantom.ts';
import {
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  SAMPLE_GENERATOR_VERSION,
  SAMPLE_PATIENT,
  SAMPLE_STUDY,
  sampleUids,
  type SampleUids,
} from './sample-identity.ts';

type DicomElements = Record<string, unknown>;
interface DcmjsData {
  DicomDict: new (meta: DicomElements) => { dict: DicomElements; write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer };
  DicomMetaDictionary: { denaturalizeDataset(dataset: Record<string, unknown>): DicomElements };
}
const dcmjsExports = dcmjsModule as unknown as { default?: { data: DcmjsData }; data?: DcmjsData };
const dcmjs: { data: DcmjsData } = dcmjsExports.default ?? { data: dcmjsExports.data as DcmjsData };

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** Stored value = HU − intercept; with 12 bits stored that covers MIN_HU..MAX_HU. */
export const RESCALE_INTERCEPT = -1024;

/** InstanceNumber of slice index k: 1 for the top (most superior) slice. */
export function instanceNumberOf(sliceIndex: number, slices: number): number {
  return slices - sliceIndex;
}

export function ctFileName(instanceNumber: number): string {
  return `CT${String(instanceNumber).padStart(6, '0')}.dcm`;
}

/**
 * A decimal string (DS) of at most 16 characters. JavaScript's shortest
 * round-trip form is used when it fits, so values read back exactly.
 */
export function formatDecimalString(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot write ${value} as a DICOM decimal string`);
  if (Object.is(value, -0) || value === 0) return '0';
  const plain = String(value);
  if (plain.length <= 16 && !/e/i.test(plain)) return plain;
  for (let digits = 15; digits > 0; digits--) {
    const text = Number(value.toPrecision(digits)).toString();
    if (text.length <= 16) return text;
  }
  throw new RangeError(`cannot fit ${value} in a 16-character DICOM decimal string`);
}

export interface CtSliceFile {
  sliceIndex: number;
  instanceNumber: number;
  fileName: string;
  sopInstanceUid: string;
  bytes: number;
}

/**
 * The DICOM file for one slice. `hu` holds that slice's columns × rows values in
 * HU (row by row); they must lie in MIN_HU..MAX_HU.
 */
export function encodeCtSlice(geometry: PhantomGeometry, sliceIndex: number, hu: Int16Array, uids: SampleUids): Uint8Array {
  const { columns, rows, slices, pixelSpacing, sliceThickness, origin } = geometry;
  if (hu.length !== columns * rows) {
    throw new RangeError(`slice ${sliceIndex}: expected ${columns * rows} values, got ${hu.length}`);
  }
  const pixelBytes = new Uint8Array(columns * rows * 2);
  const view = new DataView(pixelBytes.buffer);
  for (let i = 0; i < hu.length; i++) {
    const value = hu[i]!;
    if (value < MIN_HU || value > MAX_HU) {
      throw new RangeError(`slice ${sliceIndex}: ${value} HU at pixel ${i} is outside ${MIN_HU}..${MAX_HU}`);
    }
    view.setUint16(i * 2, value - RESCALE_INTERCEPT, true);
  }
  const z = sliceZ(geometry, sliceIndex);
  const sopInstanceUid = uids.sopInstanceUid(sliceIndex);
  const ds = formatDecimalString;
  const dataset: Record<string, unknown> = {
    // SOP Common
    SpecificCharacterSet: 'ISO_IR 100',
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    InstanceCreationDate: SAMPLE_STUDY.date,
    InstanceCreationTime: SAMPLE_STUDY.time,
    SOPClassUID: CT_IMAGE_STORAGE,
    SOPInstanceUID: sopInstanceUid,
    // General Study, General Series, General Image dates
    StudyDate: SAMPLE_STUDY.date,
    SeriesDate: SAMPLE_STUDY.date,
    AcquisitionDate: SAMPLE_STUDY.date,
    ContentDate: SAMPLE_STUDY.date,
    StudyTime: SAMPLE_STUDY.time,
    SeriesTime: SAMPLE_STUDY.time,
    AcquisitionTime: SAMPLE_STUDY.time,
    ContentTime: SAMPLE_STUDY.time,
    AccessionNumber: SAMPLE_STUDY.accessionNumber,
    Modality: 'CT',
    // General Equipment
    Manufacturer: SAMPLE_STUDY.manufacturer,
    ReferringPhysicianName: '',
    StudyDescription: SAMPLE_STUDY.description,
    SeriesDescription: SAMPLE_STUDY.seriesDescription,
    ManufacturerModelName: SAMPLE_STUDY.modelName,
    // Patient
    PatientName: SAMPLE_PATIENT.name,
    PatientID: SAMPLE_PATIENT.id,
    PatientBirthDate: '',
    PatientSex: 'O',
    PatientComments: SAMPLE_PATIENT.comments,
    // CT Image, General Series
    BodyPartExamined: 'CHESTABDOMEN',
    SliceThickness: ds(sliceThickness),
    KVP: '120',
    SoftwareVersions: SAMPLE_GENERATOR_VERSION,
    ReconstructionDiameter: ds(Math.max(columns, rows) * pixelSpacing),
    PatientPosition: 'HFS',
    StudyInstanceUID: uids.studyInstanceUid,
    SeriesInstanceUID: uids.seriesInstanceUid,
    StudyID: SAMPLE_STUDY.studyId,
    SeriesNumber: String(SAMPLE_STUDY.seriesNumber),
    AcquisitionNumber: '1',
    InstanceNumber: String(instanceNumberOf(sliceIndex, slices)),
    // Image Plane, Frame of Reference
    ImagePositionPatient: [ds(origin[0]), ds(origin[1]), ds(z)],
    ImageOrientationPatient: ['1', '0', '0', '0', '1', '0'],
    FrameOfReferenceUID: uids.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    SliceLocation: ds(z),
    // Image Pixel
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: rows,
    Columns: columns,
    PixelSpacing: [ds(pixelSpacing), ds(pixelSpacing)],
    BitsAllocated: 16,
    BitsStored: 12,
    HighBit: 11,
    PixelRepresentation: 0,
    BurnedInAnnotation: 'NO',
    // VOI LUT: soft tissue first (the default most viewers take), then lung.
    WindowCenter: ['40', '-600'],
    WindowWidth: ['400', '1500'],
    WindowCenterWidthExplanation: ['SOFT TISSUE', 'LUNG'],
    RescaleIntercept: ds(RESCALE_INTERCEPT),
    RescaleSlope: '1',
    RescaleType: 'HU',
    LossyImageCompression: '00',
    PixelData: [pixelBytes.buffer],
    _vrMap: { PixelData: 'OW' },
  };
  const meta: Record<string, unknown> = {
    FileMetaInformationVersion: [new Uint8Array([0, 1]).buffer],
    MediaStorageSOPClassUID: CT_IMAGE_STORAGE,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
    _vrMap: { FileMetaInformationVersion: 'OB' },
  };
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write({ allowInvalidVRLength: false }));
}

/**
 * Writes a whole phantom into `dir` (created if needed) and returns the files in
 * slice order. Awaiting each file write lets other work run between slices.
 */
export async function writeCtSeries(dir: string, phantom: Phantom, uids: SampleUids = sampleUids(phantom.spec)): Promise<CtSliceFile[]> {
  await mkdir(dir, { recursive: true });
  const { columns, rows, slices } = phantom.geometry;
  const pixels = columns * rows;
  const written: CtSliceFile[] = [];
  for (let k = 0; k < slices; k++) {
    const bytes = encodeCtSlice(phantom.geometry, k, phantom.hu.subarray(k * pixels, (k + 1) * pixels), uids);
    const instanceNumber = instanceNumberOf(k, slices);
    const fileName = ctFileName(instanceNumber);
    await writeFile(path.join(dir, fileName), bytes);
    written.push({ sliceIndex: k, instanceNumber, fileName, sopInstanceUid: uids.sopInstanceUid(k), bytes: bytes.length });
  }
  return written;
}
