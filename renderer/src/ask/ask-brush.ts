// The resident's painted answer in teaching mode: a disc brush of a chosen radius that
// paints (or erases) a mask of the slice, with strokes filled between pointer samples so
// a fast drag leaves no gaps. Pure: the overlay feeds it image coordinates.

export const BRUSH_RADIUS = { min: 1, max: 40, initial: 6 } as const;

/** Sets (value 1) or clears (value 0) every pixel whose centre lies within `radius` of (cx, cy). */
export function paintDisc(mask: Uint8Array, width: number, height: number, cx: number, cy: number, radius: number, value: 0 | 1): number {
  if (mask.length !== width * height) throw new RangeError(`the mask holds ${mask.length} pixels, the slice is ${width}×${height}`);
  const r2 = radius * radius;
  let changed = 0;
  const y0 = Math.max(0, Math.ceil(cy - radius));
  const y1 = Math.min(height - 1, Math.floor(cy + radius));
  const x0 = Math.max(0, Math.ceil(cx - radius));
  const x1 = Math.min(width - 1, Math.floor(cx + radius));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 > r2) continue;
      const i = y * width + x;
      if (mask[i] !== value) {
        mask[i] = value;
        changed++;
      }
    }
  }
  return changed;
}

/** Paints discs along the segment from `from` to `to`, at most half a radius apart. */
export function paintStroke(
  mask: Uint8Array,
  width: number,
  height: number,
  from: { x: number; y: number },
  to: { x: number; y: number },
  radius: number,
  value: 0 | 1,
): number {
  const length = Math.hypot(to.x - from.x, to.y - from.y);
  const steps = Math.max(1, Math.ceil(length / Math.max(0.5, radius / 2)));
  let changed = 0;
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    changed += paintDisc(mask, width, height, from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t, radius, value);
  }
  return changed;
}

export function clampRadius(radius: number): number {
  if (!Number.isFinite(radius)) return BRUSH_RADIUS.initial;
  return Math.min(BRUSH_RADIUS.max, Math.max(BRUSH_RADIUS.min, Math.round(radius)));
}
