// Segments as surfaces for the 3D pane: vtk.js's marching cubes (the same toolkit that
// renders the panes) on each segment's mask, cut out around it, with the vertices placed
// in patient space from the series' own slice positions. Runs in the effects worker;
// DOM-free, so the Node tests run it too.
/// <reference path="./vtk-marching-cubes.d.ts" />
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray.js';
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData.js';
import vtkImageMarchingCubes from '@kitware/vtk.js/Filters/General/ImageMarchingCubes.js';
import { growBox, segmentBox, type Grid } from './effect-grid.ts';

export type Vec3 = [number, number, number];

/** Where voxels lie in patient space: each slice's ImagePositionPatient, the row and column directions, the pixel spacing. */
export type SurfaceGeometry = {
  slicePositions: Vec3[];
  /** Direction of increasing column (ImageOrientationPatient's first triplet). */
  rowDirection: Vec3;
  /** Direction of increasing row (the second triplet). */
  columnDirection: Vec3;
  columnMm: number;
  rowMm: number;
};

/** Triangles in vtk's cell layout ([3, a, b, c] each), vertices in patient mm. */
export type SegmentSurface = { segment: number; points: Float32Array; polys: Uint32Array };

export function segmentSurfaces(labelmap: Uint8Array, grid: Grid, segments: readonly number[], geometry: SurfaceGeometry): SegmentSurface[] {
  if (geometry.slicePositions.length !== grid.dims.slices) throw new RangeError(`the geometry lists ${geometry.slicePositions.length} slice positions for ${grid.dims.slices} slices`);
  const out: SegmentSurface[] = [];
  for (const segment of segments) {
    const box = segmentBox(labelmap, grid, segment);
    if (!box) continue;
    // One voxel of background all round, so the surface closes at the crop's edge.
    const crop = growBox(box, grid, 1, 1, 1);
    const size: Vec3 = [crop.c1 - crop.c0 + 3, crop.r1 - crop.r0 + 3, crop.s1 - crop.s0 + 3];
    const mask = new Float32Array(size[0] * size[1] * size[2]);
    const { columns, rows } = grid.dims;
    for (let s = crop.s0; s <= crop.s1; s++) {
      for (let r = crop.r0; r <= crop.r1; r++) {
        const from = (s * rows + r) * columns;
        const to = ((s - crop.s0 + 1) * size[1] + (r - crop.r0 + 1)) * size[0] + 1;
        for (let c = crop.c0; c <= crop.c1; c++) if (labelmap[from + c] === segment) mask[to + c - crop.c0] = 1;
      }
    }
    const image = vtkImageData.newInstance();
    image.setDimensions(size);
    // vtk.js's ImageData typings lose their DataSet base under our module resolution: the call is DataSet's.
    (image as unknown as { getPointData(): { setScalars(scalars: unknown): void } }).getPointData().setScalars(vtkDataArray.newInstance({ numberOfComponents: 1, values: mask }));
    const cubes = vtkImageMarchingCubes.newInstance();
    cubes.setContourValue(0.5);
    cubes.setMergePoints(true);
    cubes.setComputeNormals(false);
    cubes.setInputData(image);
    const polyData = cubes.getOutputData();
    const local = polyData.getPoints().getData();
    const points = new Float32Array(local.length);
    for (let i = 0; i < local.length; i += 3) {
      const world = toPatient(geometry, local[i]! + crop.c0 - 1, local[i + 1]! + crop.r0 - 1, local[i + 2]! + crop.s0 - 1);
      points[i] = world[0];
      points[i + 1] = world[1];
      points[i + 2] = world[2];
    }
    out.push({ segment, points, polys: polyData.getPolys().getData().slice() });
  }
  return out;
}

/** Patient mm of a (fractional) voxel position: the slice position interpolated between its two slices. */
export function toPatient(geometry: SurfaceGeometry, column: number, row: number, slice: number): Vec3 {
  const positions = geometry.slicePositions;
  const last = positions.length - 1;
  const k = Math.max(0, Math.min(last, slice));
  const k0 = Math.min(Math.floor(k), Math.max(0, last - 1));
  const k1 = Math.min(last, k0 + 1);
  const t = k1 === k0 ? 0 : slice - k0;
  const p0 = positions[k0]!;
  const p1 = positions[k1]!;
  const out: Vec3 = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    out[a] = p0[a]! + (p1[a]! - p0[a]!) * t + geometry.rowDirection[a]! * column * geometry.columnMm + geometry.columnDirection[a]! * row * geometry.rowMm;
  }
  return out;
}
