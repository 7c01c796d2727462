// Segments as surfaces for the 3D pane: vtk.js's marching cubes on a voxelised ball, the
// vertices placed in patient space from the slice positions. Judged against the ball
// itself: every vertex lies on its surface within a voxel, and the mesh encloses its
// volume (divergence theorem) within the voxelisation's error.
import { describe, expect, it } from 'vitest';
import { segmentSurfaces, toPatient, type SurfaceGeometry, type Vec3 } from '../../renderer/src/segmentation/segment-surface.ts';

const dims = { columns: 40, rows: 36, slices: 24 };
const spacing = { column: 0.8, row: 0.8, slice: 1.5 };
// Slices stored from the top down (positions decreasing in z), at an offset origin.
const geometry: SurfaceGeometry = {
  slicePositions: Array.from({ length: dims.slices }, (_, s) => [-100, 50, 200 - s * spacing.slice] as Vec3),
  rowDirection: [1, 0, 0],
  columnDirection: [0, 1, 0],
  columnMm: spacing.column,
  rowMm: spacing.row,
};
const centre: Vec3 = toPatient(geometry, 20, 17, 11);
const RADIUS = 9;

function ball(): Uint8Array {
  const labelmap = new Uint8Array(dims.columns * dims.rows * dims.slices);
  for (let s = 0; s < dims.slices; s++) {
    for (let r = 0; r < dims.rows; r++) {
      for (let c = 0; c < dims.columns; c++) {
        const p = toPatient(geometry, c, r, s);
        if (Math.hypot(p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]) <= RADIUS) labelmap[(s * dims.rows + r) * dims.columns + c] = 3;
      }
    }
  }
  return labelmap;
}

describe('segment surfaces', () => {
  it('puts every vertex of a ball segment on the ball, in patient mm', () => {
    const [surface] = segmentSurfaces(ball(), { dims, spacing }, [3], geometry);
    expect(surface?.segment).toBe(3);
    const { points } = surface!;
    expect(points.length / 3).toBeGreaterThan(200);
    const voxelDiagonal = Math.hypot(spacing.column, spacing.row, spacing.slice);
    for (let i = 0; i < points.length; i += 3) {
      const distance = Math.hypot(points[i]! - centre[0], points[i + 1]! - centre[1], points[i + 2]! - centre[2]);
      expect(Math.abs(distance - RADIUS)).toBeLessThan(voxelDiagonal);
    }
  });

  it('encloses the ball: the mesh volume is the ball volume within 15 %', () => {
    const [surface] = segmentSurfaces(ball(), { dims, spacing }, [3], geometry);
    const { points, polys } = surface!;
    let volume = 0;
    for (let i = 0; i < polys.length; i += polys[i]! + 1) {
      expect(polys[i]).toBe(3);
      const [a, b, c] = [polys[i + 1]!, polys[i + 2]!, polys[i + 3]!].map((v) => [points[3 * v]! - centre[0], points[3 * v + 1]! - centre[1], points[3 * v + 2]! - centre[2]]);
      volume += (a![0]! * (b![1]! * c![2]! - b![2]! * c![1]!) - a![1]! * (b![0]! * c![2]! - b![2]! * c![0]!) + a![2]! * (b![0]! * c![1]! - b![1]! * c![0]!)) / 6;
    }
    const expected = (4 / 3) * Math.PI * RADIUS ** 3;
    expect(Math.abs(Math.abs(volume) - expected) / expected).toBeLessThan(0.15);
  });

  it('gives an empty segment no surface, and refuses geometry of another series', () => {
    expect(segmentSurfaces(ball(), { dims, spacing }, [1], geometry)).toEqual([]);
    expect(() => segmentSurfaces(ball(), { dims, spacing }, [3], { ...geometry, slicePositions: geometry.slicePositions.slice(1) })).toThrow(/slice positions/);
  });
});
