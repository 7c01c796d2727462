// Per-segment statistics of the Segment Editor's table: voxel count, volume, and the
// source image's intensities under the segment (Hounsfield units on CT, since the
// intensities given are modality values after RescaleSlope/Intercept). One pass over
// the labelmap for every segment at once.
import type { Grid } from './effect-grid.ts';

export type SegmentStatistics = {
  segment: number;
  voxels: number;
  volumeMl: number;
  /** null without intensities or without voxels. */
  mean: number | null;
  sd: number | null;
  min: number | null;
  max: number | null;
};

export function segmentStatistics(labelmap: Uint8Array, grid: Grid, segments: readonly number[], intensities?: ArrayLike<number> | null): SegmentStatistics[] {
  if (intensities && intensities.length !== labelmap.length) throw new RangeError(`intensities hold ${intensities.length} voxels, the labelmap ${labelmap.length}`);
  const count = new Float64Array(256);
  const sum = new Float64Array(256);
  const sumSquares = new Float64Array(256);
  const min = new Float64Array(256).fill(Infinity);
  const max = new Float64Array(256).fill(-Infinity);
  if (intensities) {
    for (let i = 0; i < labelmap.length; i++) {
      const label = labelmap[i]!;
      if (label === 0) continue;
      const value = intensities[i]!;
      count[label]!++;
      sum[label]! += value;
      sumSquares[label]! += value * value;
      if (value < min[label]!) min[label] = value;
      if (value > max[label]!) max[label] = value;
    }
  } else {
    for (let i = 0; i < labelmap.length; i++) count[labelmap[i]!]!++;
  }
  const voxelMl = (grid.spacing.column * grid.spacing.row * grid.spacing.slice) / 1000;
  return segments.map((segment) => {
    const n = count[segment] ?? 0;
    const hasValues = Boolean(intensities) && n > 0;
    const mean = hasValues ? sum[segment]! / n : null;
    // Sample standard deviation, as Slicer's Segment Statistics reports it.
    const variance = hasValues && n > 1 && mean !== null ? Math.max(0, (sumSquares[segment]! - n * mean * mean) / (n - 1)) : hasValues ? 0 : null;
    return {
      segment,
      voxels: n,
      volumeMl: n * voxelMl,
      mean,
      sd: variance === null ? null : Math.sqrt(variance),
      min: hasValues ? min[segment]! : null,
      max: hasValues ? max[segment]! : null,
    };
  });
}

/** Voxels of each segment on one slice (the test hook and the panel's "on this slice"). */
export function sliceCounts(labelmap: Uint8Array, grid: Grid, slice: number): Map<number, number> {
  const n = grid.dims.columns * grid.dims.rows;
  const counts = new Map<number, number>();
  for (let i = slice * n; i < (slice + 1) * n; i++) {
    const label = labelmap[i]!;
    if (label !== 0) counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return counts;
}
