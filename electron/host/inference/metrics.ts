// The MedReasoner evaluation metrics, computed exactly as the seed computes them
// (PRIS-CV/MedReasoner eval/utils.py: compute_iou, compute_pdice, compute_dice), so the
// numbers a teaching session or a benchmark prints are comparable with the paper's table.
// One module, used by the tests, the benchmarks and the teaching mode.

/** [xmin, ymin, xmax, ymax] in pixels; continuous corners as the seed treats them. */
export type Box = readonly [number, number, number, number];
/** [x, y] in pixels: x = column, y = row. */
export type Point = readonly [number, number];

/**
 * Box IoU as the seed computes it: areas are (xmax − xmin)·(ymax − ymin), i.e. corners are
 * continuous coordinates (no +1 for inclusive pixel boxes), and 1e-6 guards the division.
 */
export function boxIoU(pred: Box, gt: Box): number {
  const [ax0, ay0, ax1, ay1] = pred;
  const [bx0, by0, bx1, by1] = gt;
  const iw = Math.max(0, Math.min(ax1, bx1) - Math.max(ax0, bx0));
  const ih = Math.max(0, Math.min(ay1, by1) - Math.max(ay0, by0));
  const inter = iw * ih;
  const areaA = (ax1 - ax0) * (ay1 - ay0);
  const areaB = (bx1 - bx0) * (by1 - by0);
  return inter / (areaA + areaB - inter + 1e-6);
}

export interface Circle {
  cx: number;
  cy: number;
  r: number;
}

/** The circle a pair of key points defines: centre at their midpoint, radius half their distance. */
export function keyPointCircle(p1: Point, p2: Point): Circle {
  return { cx: (p1[0] + p2[0]) / 2, cy: (p1[1] + p2[1]) / 2, r: Math.hypot(p1[0] - p2[0], p1[1] - p2[1]) / 2 };
}

/** Area of the intersection of two circles with radii r1, r2 whose centres are d apart. */
export function circleIntersectionArea(r1: number, r2: number, d: number): number {
  if (d >= r1 + r2) return 0;
  if (d <= Math.abs(r1 - r2)) return Math.PI * Math.min(r1, r2) ** 2;
  // Clamped: rounding can push the cosines a hair outside [-1, 1] for nearly tangent circles.
  const acosClamped = (v: number) => Math.acos(Math.min(1, Math.max(-1, v)));
  const part1 = r1 ** 2 * acosClamped((d ** 2 + r1 ** 2 - r2 ** 2) / (2 * d * r1));
  const part2 = r2 ** 2 * acosClamped((d ** 2 + r2 ** 2 - r1 ** 2) / (2 * d * r2));
  const part3 = 0.5 * Math.sqrt(Math.max(0, (-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2)));
  return part1 + part2 - part3;
}

/**
 * pDice exactly as the seed computes it: 2·|A∩B| / (|A∪B| + 1e-5) for the two key-point
 * circles. Note the denominator is the UNION, not |A| + |B| as in a textbook Dice, so the
 * value runs from 0 to 2 (identical circles score 2): it is twice the circles' IoU. The
 * paper's pDice column was computed this way; `circleDice` gives the textbook value.
 */
export function pDice(pred: readonly [Point, Point], gt: readonly [Point, Point]): number {
  const a = keyPointCircle(pred[0], pred[1]);
  const b = keyPointCircle(gt[0], gt[1]);
  const d = Math.hypot(a.cx - b.cx, a.cy - b.cy);
  const inter = circleIntersectionArea(a.r, b.r, d);
  const union = Math.PI * a.r ** 2 + Math.PI * b.r ** 2 - inter;
  return (2 * inter) / (union + 1e-5);
}

/** Textbook Dice of the two key-point circles, 2·|A∩B| / (|A| + |B|), in [0, 1]. */
export function circleDice(pred: readonly [Point, Point], gt: readonly [Point, Point]): number {
  const a = keyPointCircle(pred[0], pred[1]);
  const b = keyPointCircle(gt[0], gt[1]);
  const inter = circleIntersectionArea(a.r, b.r, Math.hypot(a.cx - b.cx, a.cy - b.cy));
  const total = Math.PI * (a.r ** 2 + b.r ** 2);
  return total === 0 ? 0 : (2 * inter) / total;
}

/** Mask Dice as the seed computes it: 2·|A∩B| / (|A| + |B| + 1e-6); non-zero means inside. */
export function maskDice(pred: ArrayLike<number>, gt: ArrayLike<number>): number {
  if (pred.length !== gt.length) throw new RangeError(`mask sizes differ: ${pred.length} vs ${gt.length} pixels`);
  let inter = 0;
  let a = 0;
  let b = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] !== 0;
    const g = gt[i] !== 0;
    if (p) a++;
    if (g) b++;
    if (p && g) inter++;
  }
  return (2 * inter) / (a + b + 1e-6);
}
