// A Cornerstone image from a frame the slice-batch worker decoded: the object
// dicom-image-loader's createImage builds for a monochrome frame, from the same metadata
// modules, without its decode round trip. The file's naturalized metadata is stored first
// (so the image, the volume and the tools read the same modules as for any other file);
// when the metadata providers disagree with what the worker decoded for (pixel layout,
// rescale), the caller is told to take the loader's own path instead.
import { Enums, metaData, utilities } from '@cornerstonejs/core';
import type { Types } from '@cornerstonejs/core';
import { Enums as MetadataEnums, utilities as metadataUtilities } from '@cornerstonejs/metadata';
import type { DecodedFrame, ScalingParameters } from './slice-batch-protocol.ts';

const NATURALIZED = MetadataEnums.MetadataModules.NATURALIZED;

type PixelModule = { rows?: number; columns?: number; bitsAllocated?: number; bitsStored?: number; pixelRepresentation?: number; samplesPerPixel?: number; photometricInterpretation?: string };
type PlaneModule = { columnPixelSpacing?: number; rowPixelSpacing?: number };
type VoiModule = { windowCenter?: number[]; windowWidth?: number[]; voiLUTFunction?: string | string[]; voiLutFunction?: string; voiLUTSequence?: unknown[] };
type ModalityModule = { rescaleSlope?: number; rescaleIntercept?: number };

/** Stores a file's naturalized metadata under its base image id, where Cornerstone's metadata providers look first. */
export function storeNaturalized(baseImageId: string, natural: Record<string, unknown>): void {
  metadataUtilities.setCacheData(NATURALIZED, baseImageId, natural);
}

/** Forgets it again (a file that has to go the loader's own way, which adds its metadata itself). */
export function forgetNaturalized(baseImageId: string): void {
  metadataUtilities.clearTypedCacheData(NATURALIZED, baseImageId);
}

/** Why the metadata providers' view of `imageId` differs from what the worker decoded, or null when it does not. */
export function disagreement(imageId: string, frame: DecodedFrame, scaling: ScalingParameters | null, preScale: boolean): string | null {
  const pixel = (metaData.get(Enums.MetadataModules.IMAGE_PIXEL, imageId) ?? {}) as PixelModule;
  for (const field of ['rows', 'columns', 'bitsAllocated', 'bitsStored', 'pixelRepresentation', 'samplesPerPixel', 'photometricInterpretation'] as const) {
    if (pixel[field] !== frame[field]) return `${field}: ${String(pixel[field])} in the metadata, ${String(frame[field])} decoded`;
  }
  if (preScale) {
    const wanted = loaderScaling(imageId);
    const same = wanted === null ? scaling === null : scaling !== null && wanted.rescaleSlope === scaling.rescaleSlope && wanted.rescaleIntercept === scaling.rescaleIntercept && wanted.modality === scaling.modality;
    if (!same) return `rescale ${wanted ? `${wanted.rescaleSlope}/${wanted.rescaleIntercept}` : 'none'} in the metadata, ${scaling ? `${scaling.rescaleSlope}/${scaling.rescaleIntercept}` : 'none'} decoded`;
  }
  return null;
}

/** The rescale dicom-image-loader's createImage reads from the metadata (its getScalingParameters, PT and RTDOSE aside): null for the identity. */
function loaderScaling(imageId: string): ScalingParameters | null {
  const modalityLut = (metaData.get('modalityLutModule', imageId) ?? {}) as ModalityModule;
  const series = (metaData.get('generalSeriesModule', imageId) ?? {}) as { modality?: string };
  const rescaleSlope = modalityLut.rescaleSlope ?? 1;
  const rescaleIntercept = modalityLut.rescaleIntercept ?? 0;
  return rescaleSlope === 1 && rescaleIntercept === 0 ? null : { rescaleSlope, rescaleIntercept, modality: series.modality };
}

/** The image createImage would make of this frame (monochrome, one sample per pixel). */
export function imageFromDecodedFrame(imageId: string, frame: DecodedFrame, natural: Record<string, unknown>): Types.IImage {
  const plane = (metaData.get(Enums.MetadataModules.IMAGE_PLANE, imageId) ?? {}) as PlaneModule;
  const voi = (metaData.get(Enums.MetadataModules.VOI_LUT, imageId) ?? {}) as VoiModule;
  const modality = (metaData.get(Enums.MetadataModules.MODALITY_LUT, imageId) ?? {}) as ModalityModule;
  const calibration = (metaData.get(Enums.MetadataModules.CALIBRATION, imageId) ?? {}) as Record<string, unknown>;
  const pixelData = frame.pixelData;
  const imageFrame = { ...frame, imageId };
  const voxelManager = utilities.VoxelManager.createImageVoxelManager({ scalarData: pixelData as Types.PixelDataTypedArray, width: frame.columns, height: frame.rows, numberOfComponents: 1 });
  const voiFunction = Array.isArray(voi.voiLUTFunction) ? voi.voiLUTFunction[0] : voi.voiLUTFunction;
  const image = {
    imageId,
    dataType: pixelData.constructor.name,
    color: false,
    calibration,
    columnPixelSpacing: plane.columnPixelSpacing,
    columns: frame.columns,
    height: frame.rows,
    preScale: frame.preScale,
    intercept: modality.rescaleIntercept ? modality.rescaleIntercept : 0,
    slope: modality.rescaleSlope ? modality.rescaleSlope : 1,
    invert: frame.photometricInterpretation === 'MONOCHROME1',
    minPixelValue: frame.smallestPixelValue,
    maxPixelValue: frame.largestPixelValue,
    rowPixelSpacing: plane.rowPixelSpacing,
    rows: frame.rows,
    sizeInBytes: pixelData.byteLength,
    width: frame.columns,
    windowCenter: voi.windowCenter ? voi.windowCenter[0] : undefined,
    windowWidth: voi.windowWidth ? voi.windowWidth[0] : undefined,
    voiLUTFunction: voiFunction || voi.voiLutFunction || undefined,
    decodeTimeInMS: frame.decodeTimeInMS,
    floatPixelData: undefined,
    imageFrame,
    voxelManager,
    rgba: false,
    getPixelData: () => imageFrame.pixelData,
    getCanvas: undefined,
    numberOfComponents: 1,
    imageQualityStatus: Enums.ImageQualityStatus.FULL_RESOLUTION,
    data: natural,
    ...(voi.voiLUTSequence && voi.voiLUTSequence.length > 0 ? { voiLUT: voi.voiLUTSequence[0] } : {}),
  } as unknown as Types.IImage;
  if (image.windowCenter === undefined || image.windowWidth === undefined) {
    const windowLevel = utilities.windowLevel.toWindowLevel(frame.smallestPixelValue, frame.largestPixelValue);
    image.windowWidth = windowLevel.windowWidth;
    image.windowCenter = windowLevel.windowCenter;
  }
  return image;
}
