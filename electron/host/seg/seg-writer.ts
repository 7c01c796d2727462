// DICOM-SEG writer: a validated Segmentation in, Part 10 bytes out.
//
// BINARY (Segmentation Storage, the default for interchange): one 1-bit frame per
// segment per slice where that segment occurs, bit-packed one after another with no
// padding between frames (first pixel in the least significant bit), so with an odd
// Rows × Columns a frame starts mid-byte. LABELMAP (Label Map Segmentation Storage):
// one 8- or 16-bit frame per slice where any segment occurs, the pixel value being the
// segment number and 0 (Pixel Padding Value) the background.
//
// LABELMAP may be RLE Lossless (compression 'rle'): one fragment per frame, as OHIF
// writes them; a CT labelmap is long runs, so 60 MB become about 1 MB. BINARY stays
// native: its frames are already 1 bit per voxel and every reader takes them.
//
// Only non-empty frames are written. Each frame references its source image
// (DerivationImageSequence → SourceImageSequence) and its plane position; the
// dimensions are ReferencedSegmentNumber (BINARY only) and ImagePositionPatient.
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { DCM } from './codes.ts';
import type { NaturalDataset } from './dcmjs-module.ts';
import { codeItem, dicomDate, dicomTime, formatDecimalString, newUid } from './dicom-values.ts';
import { concatParts, encodeWithDcmjs, withEncapsulatedPixelData, withPixelData, type Part10Parts } from './part10.ts';
import { encapsulatedPixelData, encodeRleFrame } from './rle.ts';
import {
  PhotometricInterpretation,
  SegmentationType,
  SegmentsOverlap,
  SOP_CLASS_FOR_TYPE,
  SegmentAlgorithmType,
  SopClass,
  TransferSyntax,
} from './seg-enums.ts';
import { forEachNonZero } from './labelmap-scan.ts';
import type { Segment } from './segment.ts';
import type { Segmentation } from './segmentation.ts';
import { isLenientUid, isStrictUid, longStringProblem, Problems, quoted, SegValidationError } from './validation.ts';

const packageVersion = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;

export interface Equipment {
  manufacturer: string;
  modelName: string;
  deviceSerialNumber: string;
  softwareVersions: string;
}

export const DEFAULT_EQUIPMENT: Readonly<Equipment> = Object.freeze({
  manufacturer: 'MedReasoner',
  modelName: 'MedReasoner Workstation',
  deviceSerialNumber: '1',
  softwareVersions: packageVersion,
});

export type SegCompression = 'none' | 'rle';

export interface SegWriteOptions {
  type?: SegmentationType;
  /** 'rle': RLE Lossless, LABELMAP only. */
  compression?: SegCompression;
  /** An earlier version of this segmentation (a SEG in the same study) that this one replaces. */
  supersedes?: { sopInstanceUid: string; seriesInstanceUid: string; sopClassUid?: string } | null;
  seriesDescription?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  /** CS: upper-case letters, digits, space and underscore, at most 16. */
  contentLabel?: string;
  contentDescription?: string;
  /** PN of who made the segmentation (Type 2: empty when unknown). */
  contentCreatorName?: string;
  equipment?: Partial<Equipment>;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  now?: Date;
  /**
   * 'direct' (default) appends the Pixel Data element to the dcmjs-written header;
   * 'dcmjs' lets dcmjs write the pixels too (kept for the benchmark's comparison).
   */
  pixelEncoding?: 'direct' | 'dcmjs';
}

export interface EncodedSeg extends Part10Parts {
  type: SegmentationType;
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  frames: number;
  transferSyntaxUid: string;
}

interface ResolvedOptions {
  type: SegmentationType;
  compression: SegCompression;
  supersedes: { sopInstanceUid: string; seriesInstanceUid: string; sopClassUid: string } | null;
  seriesDescription: string;
  seriesNumber: number;
  instanceNumber: number;
  contentLabel: string;
  contentDescription: string;
  contentCreatorName: string;
  equipment: Equipment;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  now: Date;
  pixelEncoding: 'direct' | 'dcmjs';
}

function resolveOptions(options: SegWriteOptions): ResolvedOptions {
  const problems = new Problems('SEG options');
  const type = options.type ?? SegmentationType.BINARY;
  problems.check(type === SegmentationType.BINARY || type === SegmentationType.LABELMAP, `type must be BINARY or LABELMAP, got ${quoted(String(type))}`);
  const compression = options.compression ?? 'none';
  problems.check(compression === 'none' || compression === 'rle', `compression must be none or rle, got ${quoted(String(compression))}`);
  problems.check(compression !== 'rle' || type === SegmentationType.LABELMAP, 'RLE compression is for LABELMAP SEGs; BINARY is written native (1 bit per voxel already)');
  const supersedes = options.supersedes ?? null;
  if (supersedes) {
    problems.check(isLenientUid(supersedes.sopInstanceUid), `supersedes.sopInstanceUid ${quoted(supersedes.sopInstanceUid)} is not a UID`);
    problems.check(isLenientUid(supersedes.seriesInstanceUid), `supersedes.seriesInstanceUid ${quoted(supersedes.seriesInstanceUid)} is not a UID`);
  }
  const equipment = { ...DEFAULT_EQUIPMENT, ...options.equipment };
  for (const [field, value] of Object.entries(equipment)) {
    const problem = longStringProblem(value, { required: true });
    problems.check(problem === null, () => `equipment ${field} ${problem} (Enhanced General Equipment needs it)`);
  }
  const seriesDescription = options.seriesDescription ?? 'Segmentation';
  const descriptionProblem = longStringProblem(seriesDescription, { required: true });
  problems.check(descriptionProblem === null, () => `seriesDescription ${descriptionProblem}`);
  const contentDescription = options.contentDescription ?? seriesDescription;
  const contentDescriptionProblem = longStringProblem(contentDescription, { required: false });
  problems.check(contentDescriptionProblem === null, () => `contentDescription ${contentDescriptionProblem}`);
  const contentLabel = options.contentLabel ?? 'SEGMENTATION';
  problems.check(/^[A-Z0-9_ ]{1,16}$/.test(contentLabel), `contentLabel must be 1–16 upper-case letters, digits, spaces or underscores, got ${quoted(contentLabel)}`);
  const creator = options.contentCreatorName ?? '';
  problems.check(creator.length <= 64 && !/[\\\u0000-\u001f]/.test(creator), `contentCreatorName must be a person name of at most 64 characters, got ${quoted(creator)}`);
  for (const [field, value] of [['seriesNumber', options.seriesNumber], ['instanceNumber', options.instanceNumber]] as const) {
    if (value !== undefined) problems.check(Number.isInteger(value) && value >= 0 && value <= 2147483647, `${field} must be a non-negative integer, got ${String(value)}`);
  }
  for (const [field, value] of [['seriesInstanceUid', options.seriesInstanceUid], ['sopInstanceUid', options.sopInstanceUid]] as const) {
    if (value !== undefined) problems.check(isStrictUid(value), `${field} ${quoted(value)} is not a valid UID`);
  }
  const now = options.now ?? new Date();
  problems.check(!Number.isNaN(now.getTime()), 'now is not a valid date');
  problems.throwIfAny();
  return {
    type,
    compression,
    supersedes: supersedes ? { sopClassUid: supersedes.sopClassUid ?? SopClass.segmentation, sopInstanceUid: supersedes.sopInstanceUid, seriesInstanceUid: supersedes.seriesInstanceUid } : null,
    seriesDescription,
    seriesNumber: options.seriesNumber ?? 300,
    instanceNumber: options.instanceNumber ?? 1,
    contentLabel,
    contentDescription,
    contentCreatorName: creator,
    equipment,
    seriesInstanceUid: options.seriesInstanceUid ?? newUid(),
    sopInstanceUid: options.sopInstanceUid ?? newUid(),
    now,
    pixelEncoding: options.pixelEncoding ?? 'direct',
  };
}

/** One frame of the SEG: which slice, which segment (BINARY; 0 for LABELMAP). */
interface FramePlan {
  sliceIndex: number;
  segmentNumber: number;
}

export function planFrames(segmentation: Segmentation, type: SegmentationType): FramePlan[] {
  const { segmentsBySlice } = segmentation.frameContents;
  const frames: FramePlan[] = [];
  if (type === SegmentationType.LABELMAP) {
    segmentsBySlice.forEach((present, sliceIndex) => {
      if (present.length > 0) frames.push({ sliceIndex, segmentNumber: 0 });
    });
    return frames;
  }
  // BINARY: grouped by segment, slices ascending within each segment.
  const slicesBySegment: number[][] = segmentation.segments.map(() => []);
  segmentsBySlice.forEach((present, sliceIndex) => {
    for (const number of present) slicesBySegment[number - 1]!.push(sliceIndex);
  });
  slicesBySegment.forEach((slices, i) => {
    for (const sliceIndex of slices) frames.push({ sliceIndex, segmentNumber: i + 1 });
  });
  return frames;
}

/** Encodes a SEG; throws SegValidationError for options that cannot be written, or an empty segmentation. */
export function encodeSeg(segmentation: Segmentation, options: SegWriteOptions = {}): EncodedSeg {
  const o = resolveOptions(options);
  const frames = planFrames(segmentation, o.type);
  if (frames.length === 0) {
    throw new SegValidationError('segmentation', ['every segment is empty: a SEG needs at least one non-empty frame']);
  }
  const dataset = buildDataset(segmentation, frames, o);
  const sopClassUid = SOP_CLASS_FOR_TYPE[o.type];
  if (o.compression === 'rle') {
    const encoded = withEncapsulatedPixelData(dataset, TransferSyntax.rleLossless, encapsulatedPixelData(rleLabelmapFrames(segmentation, frames)));
    return { ...encoded, type: o.type, sopClassUid, sopInstanceUid: o.sopInstanceUid, seriesInstanceUid: o.seriesInstanceUid, frames: frames.length, transferSyntaxUid: TransferSyntax.rleLossless };
  }
  const pixels = o.type === SegmentationType.BINARY ? packBinaryFrames(segmentation, frames) : labelmapFrames(segmentation, frames);
  let encoded: Part10Parts;
  if (o.pixelEncoding === 'dcmjs') {
    const joined = pixels.parts.length === 1 ? pixels.parts[0]! : concatParts({ parts: pixels.parts, byteLength: pixels.parts.reduce((n, p) => n + p.length, 0) });
    const buffer = joined.byteOffset === 0 && joined.byteLength === joined.buffer.byteLength ? joined.buffer : joined.slice().buffer;
    const bytes = encodeWithDcmjs({ ...dataset, PixelData: [buffer], _vrMap: { ...(dataset._vrMap as object), PixelData: pixels.vr } });
    encoded = { parts: [bytes], byteLength: bytes.length };
  } else {
    encoded = withPixelData(dataset, pixels.vr, pixels.parts);
  }
  return { ...encoded, type: o.type, sopClassUid, sopInstanceUid: o.sopInstanceUid, seriesInstanceUid: o.seriesInstanceUid, frames: frames.length, transferSyntaxUid: TransferSyntax.explicitLittle };
}

/** The whole file in one buffer (tests, small SEGs); writers should stream `parts`. */
export function encodeSegBytes(segmentation: Segmentation, options: SegWriteOptions = {}): { bytes: Uint8Array; seg: EncodedSeg } {
  const seg = encodeSeg(segmentation, options);
  return { bytes: concatParts(seg), seg };
}

function buildDataset(segmentation: Segmentation, frames: FramePlan[], o: ResolvedOptions): NaturalDataset {
  const source = segmentation.source;
  const ps = source.patientStudy;
  const ds = formatDecimalString;
  const binary = o.type === SegmentationType.BINARY;
  const date = dicomDate(o.now);
  const time = dicomTime(o.now);

  // Position index: 1-based rank of each used slice in slice order, shared by all segments.
  const usedSlices = [...new Set(frames.map((f) => f.sliceIndex))].sort((a, b) => a - b);
  const positionIndex = new Map(usedSlices.map((k, i) => [k, i + 1]));
  const dimensionOrganizationUid = newUid();

  const sourceItem = (sliceIndex: number) => {
    const slice = source.slices[sliceIndex]!;
    const item: NaturalDataset = {
      ReferencedSOPClassUID: slice.sopClassUid,
      ReferencedSOPInstanceUID: slice.sopInstanceUid,
      PurposeOfReferenceCodeSequence: [codeItem(DCM.sourceImageForProcessing)],
      // The SEG is on the source's own grid; readers that index by source frame (highdicom) need it said.
      SpatialLocationsPreserved: 'YES',
    };
    if (slice.frameNumber !== null) item.ReferencedFrameNumber = [slice.frameNumber];
    return item;
  };

  const perFrame = frames.map((frame) => {
    const slice = source.slices[frame.sliceIndex]!;
    const group: NaturalDataset = {
      DerivationImageSequence: [
        {
          SourceImageSequence: [sourceItem(frame.sliceIndex)],
          DerivationCodeSequence: [codeItem(DCM.segmentation)],
        },
      ],
      FrameContentSequence: [
        {
          DimensionIndexValues: binary ? [frame.segmentNumber, positionIndex.get(frame.sliceIndex)!] : [positionIndex.get(frame.sliceIndex)!],
        },
      ],
      PlanePositionSequence: [{ ImagePositionPatient: slice.position.map(ds) }],
    };
    if (binary) group.SegmentIdentificationSequence = [{ ReferencedSegmentNumber: frame.segmentNumber }];
    return group;
  });

  const referencedInstances = new Map<string, string>();
  for (const k of usedSlices) {
    const slice = source.slices[k]!;
    referencedInstances.set(slice.sopInstanceUid, slice.sopClassUid);
  }

  const referencedSeries: NaturalDataset[] = [
    {
      ReferencedInstanceSequence: [...referencedInstances].map(([uid, cls]) => ({ ReferencedSOPClassUID: cls, ReferencedSOPInstanceUID: uid })),
      SeriesInstanceUID: source.seriesInstanceUid,
    },
  ];
  // A new version names the SEG it replaces here: the Common Instance Reference lists
  // every instance this one refers to, and a Segmentation SOP class says what it is.
  if (o.supersedes) {
    referencedSeries.push({
      ReferencedInstanceSequence: [{ ReferencedSOPClassUID: o.supersedes.sopClassUid, ReferencedSOPInstanceUID: o.supersedes.sopInstanceUid }],
      SeriesInstanceUID: o.supersedes.seriesInstanceUid,
    });
  }

  const pixelMeasures: NaturalDataset = { PixelSpacing: source.pixelSpacing.map(ds) };
  const thickness = source.sliceThickness ?? source.sliceSpacing;
  if (thickness !== null) pixelMeasures.SliceThickness = ds(thickness);
  if (source.sliceSpacing !== null) pixelMeasures.SpacingBetweenSlices = ds(source.sliceSpacing);

  const dimensionIndex: NaturalDataset[] = [];
  if (binary) {
    dimensionIndex.push({
      DimensionOrganizationUID: dimensionOrganizationUid,
      DimensionIndexPointer: 0x0062000b,
      FunctionalGroupPointer: 0x0062000a,
      DimensionDescriptionLabel: 'ReferencedSegmentNumber',
    });
  }
  dimensionIndex.push({
    DimensionOrganizationUID: dimensionOrganizationUid,
    DimensionIndexPointer: 0x00200032,
    FunctionalGroupPointer: 0x00209113,
    DimensionDescriptionLabel: 'ImagePositionPatient',
  });

  const bitsAllocated = binary ? 1 : segmentation.labelmap instanceof Uint16Array ? 16 : 8;
  const dataset: NaturalDataset = {
    // SOP Common
    SpecificCharacterSet: 'ISO_IR 192',
    ImageType: ['DERIVED', 'PRIMARY'],
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    SOPClassUID: SOP_CLASS_FOR_TYPE[o.type],
    SOPInstanceUID: o.sopInstanceUid,
    // General Study (copied from the source)
    StudyDate: ps.studyDate,
    SeriesDate: date,
    ContentDate: date,
    StudyTime: ps.studyTime,
    SeriesTime: time,
    ContentTime: time,
    AccessionNumber: ps.accessionNumber,
    Modality: 'SEG',
    // Enhanced General Equipment
    Manufacturer: o.equipment.manufacturer,
    ReferringPhysicianName: ps.referringPhysicianName,
    StudyDescription: ps.studyDescription,
    SeriesDescription: o.seriesDescription,
    ManufacturerModelName: o.equipment.modelName,
    // Common Instance Reference
    ReferencedSeriesSequence: referencedSeries,
    // Patient
    PatientName: ps.patientName,
    PatientID: ps.patientId,
    PatientBirthDate: ps.patientBirthDate,
    PatientSex: ps.patientSex,
    DeviceSerialNumber: o.equipment.deviceSerialNumber,
    SoftwareVersions: o.equipment.softwareVersions,
    StudyInstanceUID: ps.studyInstanceUid,
    SeriesInstanceUID: o.seriesInstanceUid,
    StudyID: ps.studyId,
    SeriesNumber: String(o.seriesNumber),
    InstanceNumber: String(o.instanceNumber),
    // Frame of Reference
    FrameOfReferenceUID: source.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    // Multi-frame Dimension
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUid }],
    DimensionIndexSequence: dimensionIndex,
    // Image Pixel + Segmentation Image
    SamplesPerPixel: 1,
    PhotometricInterpretation: PhotometricInterpretation.MONOCHROME2,
    NumberOfFrames: String(frames.length),
    Rows: source.rows,
    Columns: source.columns,
    BitsAllocated: bitsAllocated,
    BitsStored: bitsAllocated,
    HighBit: bitsAllocated - 1,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: o.type,
    // One labelmap holds one segment per voxel, so the segments never overlap.
    SegmentsOverlap: SegmentsOverlap.NO,
    SegmentSequence: segmentation.segments.map(segmentItem),
    // Content Identification
    ContentLabel: o.contentLabel,
    ContentDescription: o.contentDescription,
    ContentCreatorName: o.contentCreatorName,
    // Multi-frame Functional Groups
    SharedFunctionalGroupsSequence: [
      {
        PlaneOrientationSequence: [{ ImageOrientationPatient: source.orientation.map(ds) }],
        PixelMeasuresSequence: [pixelMeasures],
      },
    ],
    PerFrameFunctionalGroupsSequence: perFrame,
  };
  if (!binary) {
    // Background is Pixel Padding Value 0 (Sup 243).
    dataset.PixelPaddingValue = 0;
    dataset._vrMap = { PixelPaddingValue: 'US' };
  }
  return dataset;
}

function segmentItem(segment: Segment): NaturalDataset {
  const item: NaturalDataset = {
    SegmentedPropertyCategoryCodeSequence: [codeItem(segment.category)],
    SegmentNumber: segment.number,
    SegmentLabel: segment.label,
    SegmentAlgorithmType: segment.algorithmType,
    RecommendedDisplayCIELabValue: [...segment.cielab],
    SegmentedPropertyTypeCodeSequence: [codeItem(segment.type)],
  };
  if (segment.description !== null) item.SegmentDescription = segment.description;
  if (segment.algorithmType !== SegmentAlgorithmType.MANUAL) item.SegmentAlgorithmName = segment.algorithmName;
  if (segment.anatomicRegion) item.AnatomicRegionSequence = [codeItem(segment.anatomicRegion)];
  return item;
}

/**
 * All BINARY frames in one bit stream: frame f starts at bit f × Rows × Columns, pixel i
 * of a frame is bit (start + i), least significant bit first within each byte. Each
 * slice is read once, whatever the number of segments on it.
 */
export function packBinaryFrames(segmentation: Segmentation, frames: FramePlan[]): { vr: 'OB'; parts: Uint8Array[] } {
  const perSlice = segmentation.source.pixelsPerSlice;
  const labelmap = segmentation.labelmap;
  const out = new Uint8Array(Math.ceil((frames.length * perSlice) / 8));
  const framesBySlice = new Map<number, Array<[number, number]>>();
  frames.forEach((frame, f) => {
    const list = framesBySlice.get(frame.sliceIndex);
    if (list) list.push([frame.segmentNumber, f]);
    else framesBySlice.set(frame.sliceIndex, [[frame.segmentNumber, f]]);
  });
  // Bit offset of each segment's frame on the current slice (-1: none).
  const bitBaseOf = new Float64Array(segmentation.segments.length + 1).fill(-1);
  for (const [sliceIndex, list] of framesBySlice) {
    for (const [number, f] of list) bitBaseOf[number] = f * perSlice;
    const start = sliceIndex * perSlice;
    forEachNonZero(labelmap, start, start + perSlice, (i, v) => {
      const base = bitBaseOf[v]!;
      if (base >= 0) {
        const bit = base + i - start;
        out[Math.floor(bit / 8)]! |= 1 << bit % 8;
      }
    });
    for (const [number] of list) bitBaseOf[number] = -1;
  }
  return { vr: 'OB', parts: [out] };
}

/** LABELMAP frames as RLE fragments, one per frame. */
function rleLabelmapFrames(segmentation: Segmentation, frames: FramePlan[]): Uint8Array[] {
  const { parts } = labelmapFrames(segmentation, frames);
  const bytesPerVoxel = segmentation.labelmap.BYTES_PER_ELEMENT as 1 | 2;
  return parts.map((frame) => encodeRleFrame(frame, bytesPerVoxel));
}

/** LABELMAP frames: the labelmap's own slices, zero-copy (a little-endian host stores uint16 as DICOM does). */
function labelmapFrames(segmentation: Segmentation, frames: FramePlan[]): { vr: 'OB' | 'OW'; parts: Uint8Array[] } {
  const perSlice = segmentation.source.pixelsPerSlice;
  const labelmap = segmentation.labelmap;
  if (labelmap instanceof Uint16Array && endianness() !== 'LE') {
    throw new Error('16-bit LABELMAP export needs a little-endian host');
  }
  const bytesPerVoxel = labelmap.BYTES_PER_ELEMENT;
  const parts = frames.map(
    (frame) => new Uint8Array(labelmap.buffer, labelmap.byteOffset + frame.sliceIndex * perSlice * bytesPerVoxel, perSlice * bytesPerVoxel),
  );
  return { vr: bytesPerVoxel === 2 ? 'OW' : 'OB', parts };
}
