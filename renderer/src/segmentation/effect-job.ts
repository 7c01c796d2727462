// One effect of the Segment Editor as a job: what the effects worker runs on its copy of
// the labelmap, and what it hands back — only the slices that changed, with the count
// and the segment values touched, so applying it on the page is one copy
// (SegmentationModel.applySlices), never a second pass over the volume. Pure
// TypeScript: the worker runs it, and so do the Node tests and the benchmark.
import type { Grid, Progress, Target } from './effect-grid.ts';
import { islands, logical, segmentMask, threshold, type IslandsOptions, type LogicalOperation, type ThresholdRange } from './segment-effects.ts';
import { fillBetweenSlices, margin, smooth, type Dimensionality, type SmoothingMethod } from './segment-morphology.ts';

export type EffectJob =
  | { kind: 'threshold'; range: ThresholdRange }
  | { kind: 'islands'; options: IslandsOptions }
  | { kind: 'smoothing'; method: SmoothingMethod; kernelMm: number; dimensionality: Dimensionality }
  | { kind: 'margin'; marginMm: number; dimensionality: Dimensionality }
  | { kind: 'fill-between' }
  | { kind: 'logical'; operation: LogicalOperation; other: number };

/** A Target as it crosses to a worker (structured clone keeps Sets, but arrays read better in messages). */
export type JobTarget = { segment: number; locked: number[] };

/** The slices an effect changed: `after` holds slices firstSlice… in full, labelmap layout. */
export type SliceChange = {
  firstSlice: number;
  after: Uint8Array;
  /** Voxels whose value changed. */
  changed: number;
  /** Every value a changed voxel had before or has now (0 included). */
  touched: number[];
};

export function jobNeedsIntensities(job: EffectJob): boolean {
  return job.kind === 'threshold';
}

/**
 * Runs `job` on `labelmap` in place and returns what changed (null: nothing). The
 * caller's labelmap is the worker's own copy, so the slices before are kept here to
 * compare against.
 */
export function runEffectJob(job: EffectJob, labelmap: Uint8Array, grid: Grid, jobTarget: JobTarget, intensities: Float32Array | null, progress?: Progress): SliceChange | null {
  const target: Target = { segment: jobTarget.segment, locked: new Set(jobTarget.locked) };
  const before = labelmap.slice();
  progress?.(0);
  switch (job.kind) {
    case 'threshold':
      if (!intensities) throw new Error('the threshold needs the image values, and none were given');
      threshold(labelmap, grid, intensities, job.range, target);
      break;
    case 'islands':
      islands(labelmap, grid, job.options, target);
      break;
    case 'smoothing':
      smooth(labelmap, grid, job.method, job.kernelMm, job.dimensionality, target, progress);
      break;
    case 'margin':
      margin(labelmap, grid, job.marginMm, job.dimensionality, target, progress);
      break;
    case 'fill-between':
      fillBetweenSlices(labelmap, grid, target);
      break;
    case 'logical':
      if (job.other === target.segment) throw new Error('choose another segment to combine with');
      logical(labelmap, job.operation, segmentMask(before, job.other), target);
      break;
  }
  progress?.(1);
  return sliceChange(before, labelmap, grid.dims.columns * grid.dims.rows);
}

/** The slices between the first and the last changed voxel, with the count and values touched. */
export function sliceChange(before: Uint8Array, after: Uint8Array, sliceLength: number): SliceChange | null {
  if (before.length !== after.length) throw new RangeError(`the labelmaps hold ${before.length} and ${after.length} voxels`);
  let first = -1;
  let last = -1;
  let changed = 0;
  const touched = new Uint8Array(256);
  for (let i = 0; i < after.length; i++) {
    const was = before[i]!;
    const now = after[i]!;
    if (was === now) continue;
    if (first < 0) first = i;
    last = i;
    changed++;
    touched[was] = 1;
    touched[now] = 1;
  }
  if (changed === 0) return null;
  const firstSlice = Math.floor(first / sliceLength);
  const lastSlice = Math.floor(last / sliceLength);
  const values: number[] = [];
  for (let v = 0; v < 256; v++) if (touched[v]) values.push(v);
  return { firstSlice, after: after.slice(firstSlice * sliceLength, (lastSlice + 1) * sliceLength), changed, touched: values };
}
