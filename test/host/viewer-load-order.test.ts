// The order a streamed volume fetches its slices in (renderer/src/viewer/nearest-first.ts):
// the slice in view, then outwards on both sides, each slice exactly once.
import { describe, expect, it } from 'vitest';
import { nearestFirst } from '../../renderer/src/viewer/nearest-first.ts';

describe('nearest-first slice order', () => {
  it('starts at the slice in view and alternates outwards, every slice once', () => {
    expect(nearestFirst(7, 3)).toEqual([3, 2, 4, 1, 5, 0, 6]);
    const order = nearestFirst(500, 249);
    expect(order.slice(0, 5)).toEqual([249, 248, 250, 247, 251]);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    // Distances from the focus never decrease along the order.
    const distances = order.map((index) => Math.abs(index - 249));
    for (let i = 1; i < distances.length; i++) expect(distances[i]).toBeGreaterThanOrEqual(distances[i - 1] as number);
  });

  it('runs out one side and carries on along the other near an end of the series', () => {
    expect(nearestFirst(6, 0)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(nearestFirst(6, 5)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(nearestFirst(5, 1)).toEqual([1, 0, 2, 3, 4]);
  });

  it('rounds a fractional focus, clamps one outside the series, and refuses a bad count', () => {
    expect(nearestFirst(4, 1.6)).toEqual([2, 1, 3, 0]);
    expect(nearestFirst(4, -10)).toEqual([0, 1, 2, 3]);
    expect(nearestFirst(4, 99)).toEqual([3, 2, 1, 0]);
    expect(nearestFirst(0, 0)).toEqual([]);
    expect(() => nearestFirst(-1, 0)).toThrow(/whole number/);
    expect(() => nearestFirst(2.5, 0)).toThrow(/whole number/);
  });
});
