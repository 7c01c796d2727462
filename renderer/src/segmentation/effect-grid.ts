// What every segment effect works on: the labelmap's shape and voxel size, which value
// it writes, and which values it must leave alone. Pure TypeScript (no DOM, no
// Cornerstone) so the effects run in Node tests exactly as in the app.
import type { LabelmapDims, VoxelSpacing } from './segmentation-model.ts';

export type Grid = { dims: LabelmapDims; spacing: VoxelSpacing };

/** The segment an effect edits, and the segments no effect may overwrite. */
export type Target = { segment: number; locked: ReadonlySet<number> };

/** A voxel position: column (x), row (y), slice index (series slice order). */
export type Voxel = { column: number; row: number; slice: number };

/** How far a long effect has come, 0…1 (the worker sends it on as progress events). */
export type Progress = (fraction: number) => void;

/** A slice range (inclusive); the whole series when an effect is given none. */
export type SliceRange = { firstSlice: number; lastSlice: number };

export function voxelCount(grid: Grid): number {
  return grid.dims.columns * grid.dims.rows * grid.dims.slices;
}

export function sliceLength(grid: Grid): number {
  return grid.dims.columns * grid.dims.rows;
}

export function indexOf(grid: Grid, column: number, row: number, slice: number): number {
  return (slice * grid.dims.rows + row) * grid.dims.columns + column;
}

/** May an effect that paints `segment` overwrite a voxel holding `current`? Locked segments are kept. */
export function canWrite(current: number, target: Target): boolean {
  return current === target.segment || !target.locked.has(current);
}

/** canWrite for every label value at once, for effects that sweep the whole volume. */
export function writableTable(target: Target): Uint8Array {
  const table = new Uint8Array(256).fill(1);
  for (const locked of target.locked) if (locked !== target.segment && locked < 256) table[locked] = 0;
  return table;
}

/** Sets a voxel to the target segment (when allowed). */
export function writeVoxel(labelmap: Uint8Array, index: number, target: Target): void {
  const current = labelmap[index]!;
  if (current !== target.segment && !target.locked.has(current)) labelmap[index] = target.segment;
}

/** Clears a voxel of the target segment (other segments are never erased by it). */
export function clearVoxel(labelmap: Uint8Array, index: number, target: Target): void {
  if (labelmap[index] === target.segment) labelmap[index] = 0;
}

export function clampRange(grid: Grid, range?: Partial<SliceRange>): SliceRange {
  const firstSlice = Math.max(0, Math.floor(range?.firstSlice ?? 0));
  const lastSlice = Math.min(grid.dims.slices - 1, Math.floor(range?.lastSlice ?? grid.dims.slices - 1));
  return { firstSlice, lastSlice };
}

/** The inclusive box that holds every voxel of a segment, or null when it is empty. */
export type Box = { c0: number; c1: number; r0: number; r1: number; s0: number; s1: number };

export function segmentBox(labelmap: Uint8Array, grid: Grid, segment: number): Box | null {
  const { columns, rows, slices } = grid.dims;
  let box: Box | null = null;
  for (let s = 0; s < slices; s++) {
    for (let r = 0; r < rows; r++) {
      const base = (s * rows + r) * columns;
      for (let c = 0; c < columns; c++) {
        if (labelmap[base + c] !== segment) continue;
        if (!box) box = { c0: c, c1: c, r0: r, r1: r, s0: s, s1: s };
        else {
          if (c < box.c0) box.c0 = c;
          if (c > box.c1) box.c1 = c;
          if (r < box.r0) box.r0 = r;
          if (r > box.r1) box.r1 = r;
          box.s1 = s;
        }
      }
    }
  }
  return box;
}

/** Grows a box by a number of voxels on each axis, within the grid. */
export function growBox(box: Box, grid: Grid, byColumns: number, byRows: number, bySlices: number): Box {
  return {
    c0: Math.max(0, box.c0 - byColumns),
    c1: Math.min(grid.dims.columns - 1, box.c1 + byColumns),
    r0: Math.max(0, box.r0 - byRows),
    r1: Math.min(grid.dims.rows - 1, box.r1 + byRows),
    s0: Math.max(0, box.s0 - bySlices),
    s1: Math.min(grid.dims.slices - 1, box.s1 + bySlices),
  };
}
