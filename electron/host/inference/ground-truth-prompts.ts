// Prompts derived from a ground-truth mask, the way the benchmarks and the teaching mode
// pose a segmentation task: the tight box, the box grown on every side, and key points
// deep inside the structure (as MedReasoner's points_1 / points_2 are meant to be).
import type { PixelBox } from './segmenter-types.ts';

/** Inclusive bounding box of the non-zero pixels, or null for an empty mask. */
export function maskBox(mask: ArrayLike<number>, width: number, height: number): PixelBox | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}

/** The box grown by `fraction` of its width (left and right) and height (top and bottom), clipped to the image. */
export function growBox(box: PixelBox, fraction: number, width: number, height: number): PixelBox {
  const [x0, y0, x1, y1] = box;
  const dx = Math.round((x1 - x0 + 1) * fraction);
  const dy = Math.round((y1 - y0 + 1) * fraction);
  return [Math.max(0, x0 - dx), Math.max(0, y0 - dy), Math.min(width - 1, x1 + dx), Math.min(height - 1, y1 + dy)];
}

/** Euclidean distance (approximate: chamfer 3-4) from each mask pixel to the nearest outside pixel, in pixels. */
export function distanceInside(mask: ArrayLike<number>, width: number, height: number): Float32Array {
  const big = 1e9;
  const d = new Float32Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = mask[i] ? big : 0;
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? 0 : d[y * width + x]!);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (d[i] === 0) continue;
      d[i] = Math.min(d[i]!, at(x - 1, y) + 3, at(x, y - 1) + 3, at(x - 1, y - 1) + 4, at(x + 1, y - 1) + 4);
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x;
      if (d[i] === 0) continue;
      d[i] = Math.min(d[i]!, at(x + 1, y) + 3, at(x, y + 1) + 3, at(x + 1, y + 1) + 4, at(x - 1, y + 1) + 4);
    }
  }
  for (let i = 0; i < d.length; i++) d[i] = d[i]! / 3;
  return d;
}

/**
 * Two distinct key points well inside the structure: the deepest pixel, then the deepest
 * pixel at least max(2, depth) away from it (so they mark different parts of the target).
 */
export function interiorPoints(mask: ArrayLike<number>, width: number, height: number): [[number, number], [number, number]] | null {
  const depth = distanceInside(mask, width, height);
  let best = -1;
  for (let i = 0; i < depth.length; i++) if (depth[i]! > 0 && (best < 0 || depth[i]! > depth[best]!)) best = i;
  if (best < 0) return null;
  const bx = best % width;
  const by = Math.floor(best / width);
  const separation = Math.max(2, depth[best]!);
  let second = -1;
  for (let i = 0; i < depth.length; i++) {
    if (depth[i]! <= 0 || i === best) continue;
    const far = Math.hypot((i % width) - bx, Math.floor(i / width) - by) >= separation;
    if (far && (second < 0 || depth[i]! > depth[second]!)) second = i;
  }
  if (second < 0) {
    // A tiny structure: any other pixel of it.
    for (let i = 0; i < depth.length; i++) if (depth[i]! > 0 && i !== best) second = i;
  }
  if (second < 0) second = best;
  return [
    [bx, by],
    [second % width, Math.floor(second / width)],
  ];
}
