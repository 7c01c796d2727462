// Margin, smoothing and fill between slices: distances in mm, checked against brute force.
import { describe, expect, it } from 'vitest';
import type { Grid, Target } from '../../renderer/src/segmentation/effect-grid.ts';
import { stamp } from '../../renderer/src/segmentation/segment-effects.ts';
import { fillBetweenSlices, margin, smooth, squaredDistance } from '../../renderer/src/segmentation/segment-morphology.ts';
import { sliceCounts } from '../../renderer/src/segmentation/segment-statistics.ts';

function grid(columns: number, rows: number, slices: number, spacing = { column: 1, row: 1, slice: 1 }): Grid {
  return { dims: { columns, rows, slices }, spacing };
}
const free = (segment: number, locked: number[] = []): Target => ({ segment, locked: new Set(locked) });
const count = (labelmap: Uint8Array, value: number) => labelmap.reduce((n, v) => n + (v === value ? 1 : 0), 0);

describe('distance transform', () => {
  it('equals brute-force squared distances in mm on an anisotropic grid', () => {
    const [columns, rows, slices] = [7, 6, 5];
    const spacing = { column: 0.7, row: 1.3, slice: 2.5 };
    const mask = new Uint8Array(columns * rows * slices);
    for (const i of [3, 50, 101, 177]) mask[i] = 1;
    const d = squaredDistance(mask, columns, rows, slices, spacing, 1, '3d');
    const at = (i: number) => [i % columns, Math.floor(i / columns) % rows, Math.floor(i / (columns * rows))] as const;
    for (let i = 0; i < mask.length; i++) {
      const [c, r, s] = at(i);
      let best = Infinity;
      for (let j = 0; j < mask.length; j++) {
        if (!mask[j]) continue;
        const [c2, r2, s2] = at(j);
        best = Math.min(best, ((c - c2) * spacing.column) ** 2 + ((r - r2) * spacing.row) ** 2 + ((s - s2) * spacing.slice) ** 2);
      }
      expect(d[i]).toBeCloseTo(best, 9);
    }
  });
});

describe('margin', () => {
  it('grows one voxel into a sphere of the margin and shrinks it back', () => {
    const g = grid(11, 11, 11);
    const lm = new Uint8Array(11 ** 3);
    lm[(5 * 11 + 5) * 11 + 5] = 1;
    margin(lm, g, 2, '3d', free(1));
    // Lattice points within distance 2 of the origin: 33.
    expect(count(lm, 1)).toBe(33);
    margin(lm, g, -2, '3d', free(1));
    expect(count(lm, 1)).toBe(1);
  });

  it('2D margin stays on each slice and spares locked segments', () => {
    const g = grid(9, 9, 3);
    const lm = new Uint8Array(243);
    lm[(1 * 9 + 4) * 9 + 4] = 1;
    lm[(1 * 9 + 4) * 9 + 5] = 2;
    margin(lm, g, 1, '2d', free(1, [2]));
    expect(sliceCounts(lm, g, 1).get(1)).toBe(4);
    expect(lm[(1 * 9 + 4) * 9 + 5]).toBe(2);
    expect(sliceCounts(lm, g, 0).size + sliceCounts(lm, g, 2).size).toBe(0);
  });
});

describe('smoothing', () => {
  it('opening removes a thin spike, closing fills a small hole, median does both', () => {
    const g = grid(20, 20, 1);
    const disc = () => {
      const lm = new Uint8Array(400);
      stamp(lm, g, { column: 10, row: 10, slice: 0 }, { radiusMm: 6, shape: '2d', mode: 'paint' }, free(1));
      return lm;
    };
    const spiked = disc();
    for (let c = 17; c < 20; c++) spiked[10 * 20 + c] = 1;
    smooth(spiked, g, 'opening', 3, '2d', free(1));
    expect(spiked[10 * 20 + 18]).toBe(0);
    expect(spiked[10 * 20 + 10]).toBe(1);

    const holed = disc();
    holed[10 * 20 + 10] = 0;
    smooth(holed, g, 'closing', 3, '2d', free(1));
    expect(holed[10 * 20 + 10]).toBe(1);

    const noisy = disc();
    noisy[10 * 20 + 10] = 0;
    noisy[10 * 20 + 18] = 1;
    smooth(noisy, g, 'median', 3, '2d', free(1));
    expect(noisy[10 * 20 + 10]).toBe(1);
    expect(noisy[10 * 20 + 18]).toBe(0);
    expect(Math.abs(count(noisy, 1) - count(disc(), 1))).toBeLessThanOrEqual(8);
  });
});

describe('fill between slices', () => {
  it('interpolates between two painted slices and leaves the painted ones alone', () => {
    const g = grid(21, 21, 5);
    const lm = new Uint8Array(21 * 21 * 5);
    stamp(lm, g, { column: 10, row: 10, slice: 0 }, { radiusMm: 2, shape: '2d', mode: 'paint' }, free(1));
    stamp(lm, g, { column: 10, row: 10, slice: 4 }, { radiusMm: 6, shape: '2d', mode: 'paint' }, free(1));
    const before = [0, 4].map((s) => sliceCounts(lm, g, s).get(1));
    expect(fillBetweenSlices(lm, g, free(1))).toEqual([1, 2, 3]);
    const counts = [0, 1, 2, 3, 4].map((s) => sliceCounts(lm, g, s).get(1) ?? 0);
    expect([counts[0], counts[4]]).toEqual(before);
    // The filled discs grow steadily from the small one to the large one.
    for (let s = 1; s < 5; s++) expect(counts[s]!).toBeGreaterThan(counts[s - 1]!);
    // The middle slice is about a 4 mm disc (49 lattice points within 4).
    expect(Math.abs(counts[2]! - 49)).toBeLessThanOrEqual(8);
  });
});
