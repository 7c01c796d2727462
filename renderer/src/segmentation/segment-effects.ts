// The Segment Editor's voxel effects: paint and erase, threshold, islands, logical
// operations and scissors. Each changes a labelmap in place (the caller wraps it in
// SegmentationModel.edit, which makes it one undoable step) and never overwrites a
// locked segment. Distances are millimetres, so a brush is round on anisotropic voxels.
import { canWrite, clampRange, clearVoxel, indexOf, sliceLength, writableTable, writeVoxel, type Grid, type SliceRange, type Target, type Voxel } from './effect-grid.ts';

export type BrushShape = '2d' | '3d';

export type BrushOptions = {
  /** Radius in mm (in-plane; through slices too for the sphere). */
  radiusMm: number;
  shape: BrushShape;
  /** Paint writes the segment; erase clears only that segment's voxels. */
  mode: 'paint' | 'erase';
};

/**
 * Stamps the brush at every point of a stroke and along the lines between them (at
 * most a quarter radius apart, so a fast drag leaves no gaps). Points are voxel
 * positions, fractional in-plane (where the mouse was); the stroke stays on their slice.
 */
export function paintStroke(labelmap: Uint8Array, grid: Grid, points: readonly Voxel[], brush: BrushOptions, target: Target): void {
  if (!(brush.radiusMm > 0)) throw new RangeError(`a brush radius must be positive, got ${brush.radiusMm} mm`);
  const step = Math.max(0.25, (brush.radiusMm / Math.min(grid.spacing.column, grid.spacing.row)) / 4);
  let previous: Voxel | null = null;
  for (const point of points) {
    if (previous && previous.slice === point.slice) {
      const dc = point.column - previous.column;
      const dr = point.row - previous.row;
      const n = Math.ceil(Math.hypot(dc, dr) / step);
      for (let i = 1; i < n; i++) stamp(labelmap, grid, { column: previous.column + (dc * i) / n, row: previous.row + (dr * i) / n, slice: point.slice }, brush, target);
    }
    stamp(labelmap, grid, point, brush, target);
    previous = point;
  }
}

/** One brush imprint: voxels whose centres lie within the radius (circle on the slice, or sphere). */
export function stamp(labelmap: Uint8Array, grid: Grid, center: Voxel, brush: BrushOptions, target: Target): void {
  const { columns, rows, slices } = grid.dims;
  const { column: sx, row: sy, slice: sz } = grid.spacing;
  const r = brush.radiusMm;
  const slice = Math.round(center.slice);
  const reachSlices = brush.shape === '3d' ? Math.floor(r / sz) : 0;
  const r2 = r * r;
  for (let s = Math.max(0, slice - reachSlices); s <= Math.min(slices - 1, slice + reachSlices); s++) {
    const dz = (s - slice) * sz;
    const left = r2 - dz * dz;
    if (left < 0) continue;
    const inPlane = Math.sqrt(left);
    const r0 = Math.max(0, Math.ceil(center.row - inPlane / sy));
    const r1 = Math.min(rows - 1, Math.floor(center.row + inPlane / sy));
    for (let row = r0; row <= r1; row++) {
      const dy = (row - center.row) * sy;
      const halfWidth = Math.sqrt(Math.max(0, left - dy * dy)) / sx;
      const c0 = Math.max(0, Math.ceil(center.column - halfWidth));
      const c1 = Math.min(columns - 1, Math.floor(center.column + halfWidth));
      const base = indexOf(grid, 0, row, s);
      for (let column = c0; column <= c1; column++) {
        if (brush.mode === 'paint') writeVoxel(labelmap, base + column, target);
        else clearVoxel(labelmap, base + column, target);
      }
    }
  }
}

export type ThresholdRange = { low: number; high: number };

/**
 * Makes the segment exactly the voxels whose intensity lies in [low, high] (Slicer's
 * threshold "set"): voxels in range join it unless a locked segment holds them, and its
 * voxels out of range leave it. Limited to a slice range when one is given.
 */
export function threshold(labelmap: Uint8Array, grid: Grid, intensities: ArrayLike<number>, range: ThresholdRange, target: Target, slices?: Partial<SliceRange>): void {
  if (intensities.length !== labelmap.length) throw new RangeError(`intensities hold ${intensities.length} voxels, the labelmap ${labelmap.length}`);
  if (!(range.low <= range.high)) throw new RangeError(`threshold range ${range.low}…${range.high} is empty`);
  const { firstSlice, lastSlice } = clampRange(grid, slices);
  const n = sliceLength(grid);
  const writable = writableTable(target);
  const { low, high } = range;
  const segment = target.segment;
  for (let i = firstSlice * n; i < (lastSlice + 1) * n; i++) {
    const value = intensities[i]!;
    const current = labelmap[i]!;
    if (value >= low && value <= high) {
      if (writable[current]) labelmap[i] = segment;
    } else if (current === segment) {
      labelmap[i] = 0;
    }
  }
}

/** The threshold's preview on one slice: 1 where the intensity is in range. */
export function thresholdSliceMask(grid: Grid, intensities: ArrayLike<number>, slice: number, range: ThresholdRange): Uint8Array {
  const n = sliceLength(grid);
  const mask = new Uint8Array(n);
  const offset = slice * n;
  for (let i = 0; i < n; i++) {
    const value = intensities[offset + i]!;
    if (value >= range.low && value <= range.high) mask[i] = 1;
  }
  return mask;
}

/**
 * Connected components of a segment, 6-connected in 3D. Returns a component id per
 * voxel (0 outside the segment; 1, 2, … otherwise) and each component's size.
 */
export function segmentComponents(labelmap: Uint8Array, grid: Grid, segment: number): { ids: Int32Array; sizes: number[] } {
  const { columns, rows, slices } = grid.dims;
  const n = sliceLength(grid);
  const ids = new Int32Array(labelmap.length);
  const sizes: number[] = [0];
  const queue = new Int32Array(labelmap.length);
  for (let seed = 0; seed < labelmap.length; seed++) {
    if (labelmap[seed] !== segment || ids[seed] !== 0) continue;
    const id = sizes.length;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    ids[seed] = id;
    while (head < tail) {
      const i = queue[head++]!;
      const column = i % columns;
      const row = Math.floor(i / columns) % rows;
      const slice = Math.floor(i / n);
      const visit = (j: number) => {
        if (labelmap[j] === segment && ids[j] === 0) {
          ids[j] = id;
          queue[tail++] = j;
        }
      };
      if (column > 0) visit(i - 1);
      if (column < columns - 1) visit(i + 1);
      if (row > 0) visit(i - columns);
      if (row < rows - 1) visit(i + columns);
      if (slice > 0) visit(i - n);
      if (slice < slices - 1) visit(i + n);
    }
    sizes.push(tail);
  }
  return { ids, sizes };
}

export type IslandsOptions = { mode: 'keep-largest' } | { mode: 'remove-small'; minVoxels: number };

/** Keeps the largest island of a segment, or removes its islands smaller than minVoxels. Returns how many islands went. */
export function islands(labelmap: Uint8Array, grid: Grid, options: IslandsOptions, target: Target): number {
  const { ids, sizes } = segmentComponents(labelmap, grid, target.segment);
  const keep = new Uint8Array(sizes.length);
  if (options.mode === 'keep-largest') {
    let largest = 0;
    for (let id = 1; id < sizes.length; id++) if (sizes[id]! > (sizes[largest] ?? 0)) largest = id;
    keep[largest] = 1;
  } else {
    for (let id = 1; id < sizes.length; id++) if (sizes[id]! >= options.minVoxels) keep[id] = 1;
  }
  let removed = 0;
  for (let id = 1; id < sizes.length; id++) if (!keep[id]) removed++;
  if (removed === 0) return 0;
  for (let i = 0; i < labelmap.length; i++) {
    const id = ids[i]!;
    if (id !== 0 && !keep[id]) labelmap[i] = 0;
  }
  return removed;
}

export type LogicalOperation = 'union' | 'subtract' | 'intersect';

/**
 * Combines the segment with a mask (another segment's voxels, a threshold…): union adds
 * the mask (taking its voxels from unlocked segments: one labelmap holds one segment a
 * voxel), subtract removes it, intersect keeps only what lies in it.
 */
export function logical(labelmap: Uint8Array, operation: LogicalOperation, mask: ArrayLike<number>, target: Target): void {
  if (mask.length !== labelmap.length) throw new RangeError(`the mask holds ${mask.length} voxels, the labelmap ${labelmap.length}`);
  for (let i = 0; i < labelmap.length; i++) {
    const inMask = mask[i] !== 0;
    if (operation === 'union') {
      if (inMask) writeVoxel(labelmap, i, target);
    } else if (operation === 'subtract') {
      if (inMask) clearVoxel(labelmap, i, target);
    } else if (!inMask) {
      clearVoxel(labelmap, i, target);
    }
  }
}

/** A mask of one segment's voxels (the "other" operand of a logical operation). */
export function segmentMask(labelmap: Uint8Array, segment: number): Uint8Array {
  const mask = new Uint8Array(labelmap.length);
  for (let i = 0; i < labelmap.length; i++) if (labelmap[i] === segment) mask[i] = 1;
  return mask;
}

export type ScissorsOptions = {
  /** Polygon vertices in image pixel coordinates (column, row; pixel centres at integers). */
  polygon: ReadonlyArray<{ column: number; row: number }>;
  region: 'inside' | 'outside';
  operation: 'erase' | 'fill';
  /** The slice the polygon was drawn on, or every slice (the polygon swept along the slice axis). */
  extent: { slice: number } | 'volume';
};

/** Cuts (erase) or fills the segment inside or outside a polygon. */
export function scissors(labelmap: Uint8Array, grid: Grid, options: ScissorsOptions, target: Target): void {
  if (options.polygon.length < 3) throw new RangeError(`scissors need a polygon of at least 3 points, got ${options.polygon.length}`);
  const inside = polygonMask(grid, options.polygon);
  const wanted = options.region === 'inside' ? 1 : 0;
  const n = sliceLength(grid);
  const { firstSlice, lastSlice } = options.extent === 'volume' ? clampRange(grid) : clampRange(grid, { firstSlice: options.extent.slice, lastSlice: options.extent.slice });
  for (let s = firstSlice; s <= lastSlice; s++) {
    const offset = s * n;
    for (let i = 0; i < n; i++) {
      if (inside[i] !== wanted) continue;
      if (options.operation === 'erase') clearVoxel(labelmap, offset + i, target);
      else if (canWrite(labelmap[offset + i]!, target)) labelmap[offset + i] = target.segment;
    }
  }
}

/** 1 for the pixels of a slice whose centres lie inside the polygon (even-odd rule). */
export function polygonMask(grid: Grid, polygon: ReadonlyArray<{ column: number; row: number }>): Uint8Array {
  const { columns, rows } = grid.dims;
  const mask = new Uint8Array(columns * rows);
  const crossings: number[] = [];
  for (let row = 0; row < rows; row++) {
    crossings.length = 0;
    for (let i = 0; i < polygon.length; i++) {
      const a = polygon[i]!;
      const b = polygon[(i + 1) % polygon.length]!;
      if ((a.row <= row && b.row > row) || (b.row <= row && a.row > row)) {
        crossings.push(a.column + ((row - a.row) / (b.row - a.row)) * (b.column - a.column));
      }
    }
    crossings.sort((x, y) => x - y);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      const c0 = Math.max(0, Math.ceil(crossings[k]!));
      const c1 = Math.min(columns - 1, Math.floor(crossings[k + 1]!));
      for (let column = c0; column <= c1; column++) mask[row * columns + column] = 1;
    }
  }
  return mask;
}
