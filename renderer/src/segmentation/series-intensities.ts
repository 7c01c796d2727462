// The series' voxel values in modality units (Hounsfield units on CT), in the
// labelmap's layout, for threshold and statistics. Slices come through Cornerstone's
// image cache (the viewer has most of them already); a slice the loader did not
// pre-scale gets its RescaleSlope/Intercept applied here.
import { Enums, imageLoader } from '@cornerstonejs/core';
import type { Types } from '@cornerstonejs/core';
import type { LabelmapDims } from './segmentation-model.ts';

const PARALLEL_LOADS = 6;

export type IntensityProgress = (loaded: number, total: number) => void;

/** Modality values of one decoded slice (a copy, scaled as the header says). */
export function modalityValues(image: Types.IImage): Float32Array {
  const raw = image.getPixelData();
  const out = new Float32Array(raw.length);
  const scaled = image.preScale?.scaled === true || image.isPreScaled === true;
  const slope = scaled ? 1 : (image.slope ?? 1);
  const intercept = scaled ? 0 : (image.intercept ?? 0);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i]! * slope + intercept;
  return out;
}

export class SeriesIntensities {
  private readonly cache = new Map<string, Promise<Float32Array>>();

  /** Every slice's values, loaded once per series and kept until forget(). */
  get(seriesKey: string, imageIds: readonly string[], dims: LabelmapDims, onProgress?: IntensityProgress): Promise<Float32Array> {
    let values = this.cache.get(seriesKey);
    if (!values) {
      values = load(imageIds, dims, onProgress);
      values.catch(() => this.cache.delete(seriesKey));
      this.cache.set(seriesKey, values);
    }
    return values;
  }

  forget(seriesKey: string): void {
    this.cache.delete(seriesKey);
  }
}

async function load(imageIds: readonly string[], dims: LabelmapDims, onProgress?: IntensityProgress): Promise<Float32Array> {
  if (imageIds.length !== dims.slices) throw new Error(`the series lists ${imageIds.length} images for ${dims.slices} slices`);
  const sliceLength = dims.columns * dims.rows;
  const volume = new Float32Array(sliceLength * dims.slices);
  let next = 0;
  let loaded = 0;
  const worker = async () => {
    while (next < imageIds.length) {
      const index = next++;
      const imageId = imageIds[index]!;
      const image = await imageLoader.loadAndCacheImage(imageId, { priority: 0, requestType: Enums.RequestType.Interaction });
      if (image.columns !== dims.columns || image.rows !== dims.rows) {
        throw new Error(`slice ${index + 1} is ${image.columns}×${image.rows}, the series ${dims.columns}×${dims.rows}: threshold and statistics need one size`);
      }
      volume.set(modalityValues(image), index * sliceLength);
      onProgress?.(++loaded, imageIds.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_LOADS, imageIds.length) }, worker));
  return volume;
}
