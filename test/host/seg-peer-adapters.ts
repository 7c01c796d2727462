// The peer: @cornerstonejs/adapters' DICOM-SEG export (generateSegmentation) and import
// (createLabelmapsFromDICOMBuffer), driven from Node with plain objects in place of
// Cornerstone's loaded images and metadata providers. Used by the reader tests (another
// writer's SEGs, RLE included) and by bench/seg-roundtrip.ts (same labelmap, both paths).
// Not a test file.
import { adaptersSEG, adaptersSR } from '@cornerstonejs/adapters';
import * as core from '@cornerstonejs/core';
import { codeItem } from '../../electron/host/seg/dicom-values.ts';
import { dcmjs } from '../../electron/host/seg/dcmjs-module.ts';
import type { Segment } from '../../electron/host/seg/segment.ts';
import type { Labelmap } from '../../electron/host/seg/segmentation.ts';
import type { SourceSeries } from '../../electron/host/seg/source-series.ts';

type Metadata = Record<string, unknown>;
interface PeerImage {
  imageId: string;
  voxelManager: { getScalarData(): Int16Array };
}

const SEG_SOP = { BINARY: '1.2.840.10008.5.1.4.1.1.66.4', LABELMAP: '1.2.840.10008.5.1.4.1.1.66.7' } as const;
export const RLE_LOSSLESS = '1.2.840.10008.1.2.5';
export const EXPLICIT_LITTLE = '1.2.840.10008.1.2.1';

let registeredSource: SourceSeries | null = null;
let providerAdded = false;

function imageIdOf(k: number): string {
  return `medreasoner-bench:${k}`;
}

/** What Cornerstone's metadata providers would answer for the source's slices. */
function metadataFor(source: SourceSeries): (type: string, imageId: string) => Metadata | undefined {
  const ps = source.patientStudy;
  const study = {
    StudyInstanceUID: ps.studyInstanceUid,
    StudyDate: ps.studyDate,
    StudyTime: ps.studyTime,
    PatientName: ps.patientName,
    PatientID: ps.patientId,
    PatientBirthDate: ps.patientBirthDate,
    PatientSex: ps.patientSex,
    AccessionNumber: ps.accessionNumber,
    StudyID: ps.studyId,
    ReferringPhysicianName: ps.referringPhysicianName,
  };
  const series = { SeriesInstanceUID: source.seriesInstanceUid, Modality: 'CT', SeriesNumber: 1, SeriesDescription: 'source' };
  const thickness = source.sliceThickness ?? source.sliceSpacing ?? 1;
  const imageData = (k: number) => {
    const slice = source.slices[k]!;
    return {
      SOPClassUID: slice.sopClassUid,
      SOPInstanceUID: slice.sopInstanceUid,
      Rows: source.rows,
      Columns: source.columns,
      ImagePositionPatient: [...slice.position],
      ImageOrientationPatient: [...source.orientation],
      PixelSpacing: [...source.pixelSpacing],
      SliceThickness: thickness,
      FrameOfReferenceUID: source.frameOfReferenceUid,
      InstanceNumber: k + 1,
      BitsAllocated: 16,
      PixelRepresentation: 1,
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
    };
  };
  return (type, imageId) => {
    const match = /^medreasoner-bench:(\d+)$/.exec(imageId);
    if (!match) return undefined;
    const k = Number(match[1]);
    if (k >= source.sliceCount) return undefined;
    const o = source.orientation;
    switch (type) {
      case 'StudyData':
        return study;
      case 'SeriesData':
        return series;
      case 'ImageData':
        return imageData(k);
      case 'instance':
        return { ...study, ...series, ...imageData(k) };
      case 'generalImageModule':
        return { sopInstanceUID: source.slices[k]!.sopInstanceUid, instanceNumber: k + 1 };
      case 'generalSeriesModule':
        return { seriesInstanceUID: source.seriesInstanceUid, modality: 'CT' };
      case 'imagePixelModule':
        return { rows: source.rows, columns: source.columns, bitsAllocated: 16, bitsStored: 16, highBit: 15, pixelRepresentation: 1, samplesPerPixel: 1, photometricInterpretation: 'MONOCHROME2' };
      case 'imagePlaneModule':
        return {
          imagePositionPatient: [...source.slices[k]!.position],
          imageOrientationPatient: [...o],
          rowCosines: [o[0], o[1], o[2]],
          columnCosines: [o[3], o[4], o[5]],
          pixelSpacing: [...source.pixelSpacing],
          rowPixelSpacing: source.pixelSpacing[0],
          columnPixelSpacing: source.pixelSpacing[1],
          sliceThickness: thickness,
          rows: source.rows,
          columns: source.columns,
          frameOfReferenceUID: source.frameOfReferenceUid,
        };
      default:
        return undefined;
    }
  };
}

/** Registers the source with Cornerstone's global metadata (the peer's import reads it there). */
function registerSource(source: SourceSeries): { get(type: string, imageId: string): unknown } {
  registeredSource = source;
  if (!providerAdded) {
    core.metaData.addProvider((type: string, imageId: string) => (registeredSource ? metadataFor(registeredSource)(type, imageId) : undefined), 10000);
    providerAdded = true;
  }
  return { get: (type: string, imageId: string) => core.metaData.get(type, imageId) };
}

function segmentMetadata(segment: Segment): Metadata {
  const item: Metadata = {
    SegmentNumber: segment.number,
    SegmentLabel: segment.label,
    SegmentAlgorithmType: segment.algorithmType,
    SegmentedPropertyCategoryCodeSequence: codeItem(segment.category),
    SegmentedPropertyTypeCodeSequence: codeItem(segment.type),
    RecommendedDisplayCIELabValue: [...segment.cielab],
  };
  if (segment.algorithmName) item.SegmentAlgorithmName = segment.algorithmName;
  return item;
}

/**
 * Cornerstone's export of our labelmap: the peer wants one loaded image per slice (it
 * copies their pixels into a multi-frame while building the SEG), so every image hands
 * out the same zero-filled slice; that copy is the peer's own cost, as in the browser.
 */
export function cornerstoneExport(
  source: SourceSeries,
  segments: readonly Segment[],
  labelmap: Labelmap,
  { type, transferSyntaxUid = EXPLICIT_LITTLE }: { type: 'BINARY' | 'LABELMAP'; transferSyntaxUid?: string },
): Uint8Array {
  const perSlice = source.pixelsPerSlice;
  const zeros = new Int16Array(perSlice);
  const images: PeerImage[] = source.slices.map((_, k) => ({ imageId: imageIdOf(k), voxelManager: { getScalarData: () => zeros } }));
  const labelmaps2D = source.slices.map((_, k) => {
    const pixelData = labelmap.subarray(k * perSlice, (k + 1) * perSlice);
    const present = new Set<number>();
    for (let i = 0; i < pixelData.length; i++) if (pixelData[i] !== 0) present.add(pixelData[i]!);
    return { pixelData, segmentsOnLabelmap: [...present], rows: source.rows, columns: source.columns };
  });
  const metadata: Array<Metadata | undefined> = [undefined, ...segments.map(segmentMetadata)];
  const provider = metadataFor(source);
  const generated = adaptersSEG.Cornerstone3D.Segmentation.generateSegmentation(
    images,
    { labelmaps2D, metadata },
    { get: (t: string, id: string) => provider(t, id) },
    { sopClassUID: SEG_SOP[type], transferSyntaxUid },
  ) as { dataset: Record<string, unknown> };
  const written = (dcmjs.data as unknown as { datasetToDict(dataset: unknown): { write(): ArrayBuffer } }).datasetToDict(generated.dataset).write();
  return new Uint8Array(written);
}

/** Cornerstone's import of a SEG onto the source: one labelmap in slice order, as ours returns. */
export async function cornerstoneImport(source: SourceSeries, bytes: Uint8Array): Promise<Uint8Array> {
  const metadata = registerSource(source);
  const imageIds = source.slices.map((_, k) => imageIdOf(k));
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
  const result = (await adaptersSEG.Cornerstone3D.Segmentation.createLabelmapsFromDICOMBuffer(imageIds, buffer as ArrayBuffer, metadata)) as {
    labelMapImages: Array<Array<{ voxelManager: { getScalarData(): ArrayLike<number> } }>>;
  };
  // One group of images per non-overlapping layer; ours carry one layer.
  const layer = result.labelMapImages[0]!;
  const perSlice = source.pixelsPerSlice;
  const out = new Uint8Array(perSlice * source.sliceCount);
  layer.forEach((image, k) => out.set(image.voxelManager.getScalarData() as Uint8Array, k * perSlice));
  core.cache.purgeCache();
  return out;
}

export interface PeerAnnotation {
  toolName: string;
  referencedImageId: string;
  /** World coordinates (LPS, mm) of the handles, as the adapters compute them from the SCOORD. */
  points: number[][];
  trackingUniqueIdentifier: string | undefined;
}

/**
 * The adapters' TID 1500 reader (MeasurementReport.generateToolState, what OHIF runs on
 * an SR): the annotations it hydrates, by tool, on the source's image ids (slice k →
 * imageIdOf(k)).
 */
export function cornerstoneReadMeasurementReport(source: SourceSeries, srBytes: Uint8Array): Record<string, PeerAnnotation[]> {
  const metadata = registerSource(source);
  const { DicomMessage, DicomMetaDictionary } = dcmjs.data;
  const dataset = DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(srBytes.slice().buffer).dict);
  const map: Record<string, string> = {};
  source.slices.forEach((slice, k) => {
    map[`${slice.sopInstanceUid}:${slice.frameNumber ?? 1}`] = imageIdOf(k);
  });
  const report = adaptersSR.Cornerstone3D.MeasurementReport as unknown as {
    generateToolState(dataset: unknown, map: Record<string, string>, metadata: unknown, hooks?: unknown): Record<string, Array<Record<string, any>>>;
  };
  const state = report.generateToolState(dataset, map, metadata);
  const out: Record<string, PeerAnnotation[]> = {};
  for (const [tool, list] of Object.entries(state)) {
    out[tool] = list.map((m) => ({
      toolName: m.annotation.metadata.toolName as string,
      referencedImageId: m.annotation.metadata.referencedImageId as string,
      points: (m.annotation.data.handles.points as number[][]).map((p) => [...p]),
      trackingUniqueIdentifier: m.TrackingUniqueIdentifier as string | undefined,
    }));
  }
  return out;
}

export function peerImageId(k: number): string {
  return imageIdOf(k);
}
