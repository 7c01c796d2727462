// The teaching brush: discs of a radius, strokes without gaps, erasing, and the scores
// of a painted answer against a model mask.
import { describe, expect, it } from 'vitest';
import { BRUSH_RADIUS, clampRadius, paintDisc, paintStroke } from '../../renderer/src/ask/ask-brush.ts';
import { maskArea, overlapScores } from '../../renderer/src/ask/ask-metrics.ts';

const W = 40;
const H = 30;
const at = (mask: Uint8Array, x: number, y: number) => mask[y * W + x];

describe('teaching brush', () => {
  it('paints the pixels whose centres lie within the radius', () => {
    const mask = new Uint8Array(W * H);
    const changed = paintDisc(mask, W, H, 10, 10, 2, 1);
    // Radius 2 on the pixel grid: 13 centres (the 3×3 block plus 4 at distance 2).
    expect(changed).toBe(13);
    expect(maskArea(mask)).toBe(13);
    expect(at(mask, 12, 10)).toBe(1);
    expect(at(mask, 12, 11)).toBe(0);
    expect(at(mask, 11, 11)).toBe(1);
    // Painting again changes nothing.
    expect(paintDisc(mask, W, H, 10, 10, 2, 1)).toBe(0);
  });

  it('clips at the slice edges', () => {
    const mask = new Uint8Array(W * H);
    paintDisc(mask, W, H, 0, 0, 3, 1);
    let expected = 0;
    for (let y = 0; y <= 3; y++) for (let x = 0; x <= 3; x++) if (x * x + y * y <= 9) expected++;
    expect(maskArea(mask)).toBe(expected);
    expect(() => paintDisc(new Uint8Array(5), W, H, 0, 0, 1, 1)).toThrow(/5 pixels/);
  });

  it('fills a stroke between far samples without gaps', () => {
    const mask = new Uint8Array(W * H);
    paintStroke(mask, W, H, { x: 2, y: 15 }, { x: 37, y: 15 }, 1, 1);
    for (let x = 2; x <= 37; x++) expect(at(mask, x, 15), `x = ${x}`).toBe(1);
    expect(at(mask, 1, 15)).toBe(1);
    expect(at(mask, 0, 15)).toBe(0);
    expect(at(mask, 20, 17)).toBe(0);
  });

  it('erases with value 0', () => {
    const mask = new Uint8Array(W * H);
    paintStroke(mask, W, H, { x: 5, y: 5 }, { x: 30, y: 5 }, 3, 1);
    const before = maskArea(mask);
    const erased = paintDisc(mask, W, H, 15, 5, 3, 0);
    expect(erased).toBeGreaterThan(0);
    expect(maskArea(mask)).toBe(before - erased);
    expect(at(mask, 15, 5)).toBe(0);
    expect(at(mask, 25, 5)).toBe(1);
  });

  it('keeps the radius within its range', () => {
    expect(clampRadius(0)).toBe(BRUSH_RADIUS.min);
    expect(clampRadius(1000)).toBe(BRUSH_RADIUS.max);
    expect(clampRadius(4.6)).toBe(5);
    expect(clampRadius(Number.NaN)).toBe(BRUSH_RADIUS.initial);
  });

  it('scores a painted answer against a model mask', () => {
    const resident = new Uint8Array(W * H);
    const model = new Uint8Array(W * H);
    // Two 10×10 squares overlapping in a 5×10 strip.
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 10; x++) resident[y * W + x] = 1;
      for (let x = 5; x < 15; x++) model[y * W + x] = 1;
    }
    const { dice, iou } = overlapScores(resident, model);
    expect(dice).toBeCloseTo((2 * 50) / 200, 12);
    expect(iou).toBeCloseTo(50 / 150, 12);
  });
});
