// What the measurement report states of each segment: its volume, and its mean
// modality value (HU for CT) when the source pixels can be read here (slice-pixels.ts, every
// transfer syntax the viewer shows). The source pixels are optional: a source that cannot be
// read (missing, corrupt) leaves mean HU out of the report rather than failing the export.
import { forEachNonZero } from './labelmap-scan.ts';
import type { Segmentation } from './segmentation.ts';

export interface SegmentStatistics {
  voxels: number;
  volumeMm3: number;
  /** Null when the source pixels were not available. */
  meanHu: number | null;
}

/** Modality values of slice k (x fastest), or null when this slice cannot be read. */
export type SlicePixelSource = (sliceIndex: number) => Promise<Float32Array | null>;

export async function segmentStatistics(segmentation: Segmentation, pixels: SlicePixelSource | null): Promise<Map<number, SegmentStatistics>> {
  const { source, labelmap, segments } = segmentation;
  const perSlice = source.pixelsPerSlice;
  const count = segments.length + 1;
  const voxels = new Float64Array(count);
  const sums = new Float64Array(count);
  let pixelsComplete = pixels !== null;
  const { segmentsBySlice } = segmentation.frameContents;
  for (let k = 0; k < source.sliceCount; k++) {
    if (segmentsBySlice[k]!.length === 0) continue;
    const values = pixelsComplete && pixels ? await pixels(k) : null;
    if (values === null || values.length < perSlice) pixelsComplete = false;
    const base = k * perSlice;
    forEachNonZero(labelmap, base, base + perSlice, (i, v) => {
      voxels[v]!++;
      if (pixelsComplete) sums[v]! += values![i - base]!;
    });
  }
  const thickness = source.sliceSpacing ?? source.sliceThickness ?? 1;
  const voxelMm3 = source.pixelSpacing[0] * source.pixelSpacing[1] * thickness;
  const result = new Map<number, SegmentStatistics>();
  for (const segment of segments) {
    const n = voxels[segment.number]!;
    result.set(segment.number, { voxels: n, volumeMm3: n * voxelMm3, meanHu: pixelsComplete && n > 0 ? sums[segment.number]! / n : null });
  }
  return result;
}
