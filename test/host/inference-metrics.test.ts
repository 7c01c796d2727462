// The seed's metrics (PRIS-CV/MedReasoner eval/utils.py), checked against values worked out by hand.
import { describe, expect, test } from 'vitest';
import { boxIoU, circleDice, circleIntersectionArea, keyPointCircle, maskDice, pDice } from '../../electron/host/inference/metrics.ts';

describe('boxIoU (seed: continuous corners, no +1)', () => {
  test('overlapping boxes: 5×5 overlap of two 10×10 boxes is 25 / 175', () => {
    expect(boxIoU([0, 0, 10, 10], [5, 5, 15, 15])).toBeCloseTo(25 / 175, 6);
  });
  test('identical boxes score 1 (up to the 1e-6 guard), disjoint ones 0', () => {
    expect(boxIoU([2, 3, 12, 9], [2, 3, 12, 9])).toBeCloseTo(1, 6);
    expect(boxIoU([0, 0, 4, 4], [5, 5, 9, 9])).toBe(0);
  });
  test('a box inside another scores the area ratio', () => {
    expect(boxIoU([0, 0, 10, 10], [0, 0, 5, 10])).toBeCloseTo(50 / 100, 6);
  });
});

describe('key-point circles and pDice', () => {
  test('the circle of two points has its centre at their midpoint and half their distance as radius', () => {
    expect(keyPointCircle([0, 0], [6, 8])).toEqual({ cx: 3, cy: 4, r: 5 });
  });
  test('circle intersection: disjoint 0, contained = smaller circle, half-overlap of equal circles by the lens formula', () => {
    expect(circleIntersectionArea(1, 1, 3)).toBe(0);
    expect(circleIntersectionArea(1, 3, 0.5)).toBeCloseTo(Math.PI, 9);
    // Two unit circles one radius apart: lens area 2π/3 − √3/2.
    expect(circleIntersectionArea(1, 1, 1)).toBeCloseTo((2 * Math.PI) / 3 - Math.sqrt(3) / 2, 9);
  });
  test('pDice is 2·|A∩B| / |A∪B| as the seed computes it: identical circles score 2, not 1', () => {
    const points: [[number, number], [number, number]] = [
      [10, 10],
      [20, 10],
    ];
    expect(pDice(points, points)).toBeCloseTo(2, 5);
  });
  test('concentric circles r = 1 and r = 2: pDice = 2π / 4π, textbook circle Dice = 2π / 5π', () => {
    const small: [[number, number], [number, number]] = [
      [-1, 0],
      [1, 0],
    ];
    const large: [[number, number], [number, number]] = [
      [-2, 0],
      [2, 0],
    ];
    expect(pDice(small, large)).toBeCloseTo(0.5, 5);
    expect(circleDice(small, large)).toBeCloseTo(0.4, 9);
  });
  test('far-apart key points score 0', () => {
    expect(
      pDice(
        [
          [0, 0],
          [1, 0],
        ],
        [
          [50, 50],
          [51, 50],
        ],
      ),
    ).toBe(0);
  });
});

describe('maskDice', () => {
  test('2·|A∩B| / (|A| + |B|)', () => {
    expect(maskDice([1, 1, 0, 0], [1, 0, 1, 0])).toBeCloseTo((2 * 1) / 4, 6);
    expect(maskDice(Uint8Array.of(0, 255, 255), Uint8Array.of(0, 1, 1))).toBeCloseTo(1, 6);
    expect(maskDice([0, 0], [0, 0])).toBe(0);
  });
  test('masks of different sizes are refused', () => {
    expect(() => maskDice([1], [1, 0])).toThrow(/sizes differ/);
  });
});
