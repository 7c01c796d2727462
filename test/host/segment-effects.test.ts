// The Segment Editor's voxel effects on small labelmaps whose right answers can be
// counted by hand: brush geometry in mm, threshold, islands, logical operations,
// scissors, and statistics.
import { describe, expect, it } from 'vitest';
import type { Grid, Target } from '../../renderer/src/segmentation/effect-grid.ts';
import { islands, logical, paintStroke, polygonMask, scissors, segmentComponents, segmentMask, stamp, threshold, thresholdSliceMask } from '../../renderer/src/segmentation/segment-effects.ts';
import { segmentStatistics, sliceCounts } from '../../renderer/src/segmentation/segment-statistics.ts';

function grid(columns: number, rows: number, slices: number, spacing = { column: 1, row: 1, slice: 1 }): Grid {
  return { dims: { columns, rows, slices }, spacing };
}
const free = (segment: number, locked: number[] = []): Target => ({ segment, locked: new Set(locked) });
const count = (labelmap: Uint8Array, value: number) => labelmap.reduce((n, v) => n + (v === value ? 1 : 0), 0);

describe('paint and erase', () => {
  it('a 2D circle of radius 2 mm covers the 13 voxel centres within 2 mm, on its slice only', () => {
    const g = grid(9, 9, 3);
    const lm = new Uint8Array(243);
    stamp(lm, g, { column: 4, row: 4, slice: 1 }, { radiusMm: 2, shape: '2d', mode: 'paint' }, free(1));
    expect(count(lm, 1)).toBe(13);
    expect(sliceCounts(lm, g, 1).get(1)).toBe(13);
    expect(sliceCounts(lm, g, 0).size).toBe(0);
  });

  it('the radius is in mm: 0.5 mm pixels give a circle twice as wide in pixels', () => {
    const g = grid(21, 21, 1, { column: 0.5, row: 0.5, slice: 2 });
    const lm = new Uint8Array(441);
    stamp(lm, g, { column: 10, row: 10, slice: 0 }, { radiusMm: 2, shape: '2d', mode: 'paint' }, free(1));
    // Radius 4 pixels: the lattice points within distance 4 number 49.
    expect(count(lm, 1)).toBe(49);
  });

  it('a 3D sphere reaches neighbouring slices by their spacing', () => {
    const g = grid(9, 9, 5, { column: 1, row: 1, slice: 2 });
    const lm = new Uint8Array(9 * 9 * 5);
    stamp(lm, g, { column: 4, row: 4, slice: 2 }, { radiusMm: 2, shape: '3d', mode: 'paint' }, free(1));
    // Slice 2: 13 voxels; slices 1 and 3 are 2 mm away: only the centre voxel.
    expect([0, 1, 2, 3, 4].map((s) => sliceCounts(lm, g, s).get(1) ?? 0)).toEqual([0, 1, 13, 1, 0]);
  });

  it('a stroke fills the gap between far-apart points; erase clears only the active segment', () => {
    const g = grid(30, 5, 1);
    const lm = new Uint8Array(150);
    lm[2 * 30 + 15] = 2; // another segment's voxel on the stroke's path
    paintStroke(lm, g, [{ column: 2, row: 2, slice: 0 }, { column: 27, row: 2, slice: 0 }], { radiusMm: 0.5, shape: '2d', mode: 'paint' }, free(1, [2]));
    for (let c = 2; c <= 27; c++) expect(lm[2 * 30 + c]).toBe(c === 15 ? 2 : 1);
    expect(count(lm, 1)).toBe(25);
    stamp(lm, g, { column: 15, row: 2, slice: 0 }, { radiusMm: 3, shape: '2d', mode: 'erase' }, free(1));
    expect(lm[2 * 30 + 15]).toBe(2);
    expect(lm[2 * 30 + 12]).toBe(0);
    expect(lm[2 * 30 + 19]).toBe(1);
  });

  it('paint overwrites unlocked segments and leaves locked ones', () => {
    const g = grid(3, 3, 1);
    const lm = new Uint8Array([2, 2, 2, 3, 3, 3, 0, 0, 0]);
    stamp(lm, g, { column: 1, row: 1, slice: 0 }, { radiusMm: 5, shape: '2d', mode: 'paint' }, free(1, [3]));
    expect([...lm]).toEqual([1, 1, 1, 3, 3, 3, 1, 1, 1]);
  });
});

describe('threshold', () => {
  it('makes the segment exactly the voxels in range and drops its voxels out of range', () => {
    const g = grid(4, 1, 2);
    const values = Float32Array.from([-1000, 50, 100, 300, 60, 61, 500, 40]);
    const lm = new Uint8Array([1, 0, 0, 0, 0, 2, 0, 0]);
    threshold(lm, g, values, { low: 40, high: 100 }, free(1, [2]));
    expect([...lm]).toEqual([0, 1, 1, 0, 1, 2, 0, 1]);
    expect([...thresholdSliceMask(g, values, 1, { low: 40, high: 100 })]).toEqual([1, 1, 0, 1]);
  });

  it('refuses intensities that do not match the labelmap', () => {
    expect(() => threshold(new Uint8Array(4), grid(4, 1, 1), [1, 2], { low: 0, high: 1 }, free(1))).toThrow(/intensities hold 2/);
  });
});

describe('islands', () => {
  it('finds 6-connected components: a diagonal neighbour is a separate island', () => {
    const g = grid(3, 3, 2);
    const lm = new Uint8Array(18);
    lm[0] = 1;
    lm[4] = 1; // diagonal to 0 in-plane
    lm[9 + 4] = 1; // right below 4 through the slices
    const { sizes } = segmentComponents(lm, g, 1);
    expect(sizes.slice(1).sort()).toEqual([1, 2]);
  });

  it('keeps the largest island or removes those below a size', () => {
    const g = grid(10, 1, 1);
    const base = Uint8Array.from([1, 1, 1, 0, 1, 0, 1, 1, 0, 2]);
    const keep = base.slice();
    expect(islands(keep, g, { mode: 'keep-largest' }, free(1))).toBe(2);
    expect([...keep]).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 2]);
    const small = base.slice();
    expect(islands(small, g, { mode: 'remove-small', minVoxels: 2 }, free(1))).toBe(1);
    expect([...small]).toEqual([1, 1, 1, 0, 0, 0, 1, 1, 0, 2]);
  });
});

describe('logical operations', () => {
  it('union takes the mask, subtract removes it, intersect keeps only it', () => {
    const mask = Uint8Array.from([1, 1, 0, 0, 1]);
    const union = Uint8Array.from([0, 2, 1, 0, 3]);
    logical(union, 'union', mask, free(1, [3]));
    expect([...union]).toEqual([1, 1, 1, 0, 3]);
    const subtract = Uint8Array.from([1, 1, 1, 0, 0]);
    logical(subtract, 'subtract', mask, free(1));
    expect([...subtract]).toEqual([0, 0, 1, 0, 0]);
    const intersect = Uint8Array.from([1, 1, 1, 2, 0]);
    logical(intersect, 'intersect', mask, free(1));
    expect([...intersect]).toEqual([1, 1, 0, 2, 0]);
    expect([...segmentMask(Uint8Array.from([2, 1, 2]), 2)]).toEqual([1, 0, 1]);
  });
});

describe('scissors', () => {
  const square = [{ column: 1, row: 1 }, { column: 3, row: 1 }, { column: 3, row: 3 }, { column: 1, row: 3 }];

  it('rasterises a polygon by pixel centres', () => {
    const mask = polygonMask(grid(5, 5, 1), square);
    // Rows 1 and 2 of the half-open even-odd rule, columns 1…3.
    expect(mask.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('erases inside on one slice, or fills outside through the volume', () => {
    const g = grid(5, 5, 2);
    const lm = new Uint8Array(50).fill(1);
    scissors(lm, g, { polygon: square, region: 'inside', operation: 'erase', extent: { slice: 1 } }, free(1));
    expect(count(lm, 0)).toBe(6);
    expect(sliceCounts(lm, g, 0).get(1)).toBe(25);
    const empty = new Uint8Array(50);
    scissors(empty, g, { polygon: square, region: 'outside', operation: 'fill', extent: 'volume' }, free(1));
    expect(count(empty, 1)).toBe(2 * (25 - 6));
  });
});

describe('statistics', () => {
  it('counts voxels, volume in mL and intensity mean, SD, min, max per segment', () => {
    const g = grid(2, 2, 1, { column: 2, row: 5, slice: 10 }); // 100 mm³ = 0.1 mL a voxel
    const lm = Uint8Array.from([1, 1, 1, 2]);
    const [one, two, three] = segmentStatistics(lm, g, [1, 2, 3], Float32Array.from([10, 20, 30, -5]));
    expect(one).toMatchObject({ segment: 1, voxels: 3, min: 10, max: 30, mean: 20 });
    expect(one!.volumeMl).toBeCloseTo(0.3, 10);
    expect(one!.sd).toBeCloseTo(10, 10);
    expect(two).toMatchObject({ voxels: 1, mean: -5, sd: 0, min: -5, max: -5 });
    expect(three).toMatchObject({ voxels: 0, volumeMl: 0, mean: null });
    expect(segmentStatistics(lm, g, [1])[0]).toMatchObject({ voxels: 3, mean: null });
  });
});
