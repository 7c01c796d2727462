// Refinement clicks, the way they act on MedSAM2: a click added to the previous prompts
// changes the answer near itself only — a positive click adds, a negative one removes. A
// graph cut re-run with one more seed may shift its whole outline (its intensity models
// and geodesic terms change), so the new cut is only let through around each new click.
import type { PixelBox, PromptPoint, SegmentPrompts } from './segmenter-types.ts';

export interface PreviousAnswer {
  key: string;
  box: PixelBox | null;
  points: PromptPoint[];
  mask: Uint8Array;
}

/** The points added to `previous`'s prompts, or null when `prompts` is not a refinement of them. */
export function addedClicks(previous: PreviousAnswer | null, key: string, prompts: SegmentPrompts): PromptPoint[] | null {
  if (!previous || previous.key !== key) return null;
  if (JSON.stringify(previous.box) !== JSON.stringify(prompts.box)) return null;
  if (prompts.points.length <= previous.points.length) return null;
  for (let i = 0; i < previous.points.length; i++) {
    const a = previous.points[i]!;
    const b = prompts.points[i]!;
    if (a.x !== b.x || a.y !== b.y || a.label !== b.label) return null;
  }
  return prompts.points.slice(previous.points.length);
}

/** How far a click reaches: a quarter of the box's mean side (the whole image's when there is no box). */
export function clickRadius(box: PixelBox | null, width: number, height: number): number {
  const [x0, y0, x1, y1] = box ?? [0, 0, width - 1, height - 1];
  return Math.max(3, 0.25 * ((x1 - x0 + 1 + (y1 - y0 + 1)) / 2));
}

/** Distance from (x, y) to the nearest pixel whose mask value differs from its own, searched up to `limit`. */
function distanceToOther(mask: Uint8Array, width: number, height: number, x: number, y: number, limit: number): number {
  const own = mask[y * width + x];
  let best = limit;
  for (let qy = Math.max(0, y - limit); qy <= Math.min(height - 1, y + limit); qy++) {
    for (let qx = Math.max(0, x - limit); qx <= Math.min(width - 1, x + limit); qx++) {
      if (mask[qy * width + qx] !== own) best = Math.min(best, Math.hypot(qx - x, qy - y));
    }
  }
  return best;
}

/**
 * The previous mask, changed by the new cut only in the click's direction and only in the
 * change that touches the click, within `radius` of it: the new cut's outline may also
 * move elsewhere, which the user did not ask for.
 */
export function applyClicksLocally(previous: Uint8Array, next: Uint8Array, width: number, height: number, clicks: readonly PromptPoint[], radius: number): Uint8Array {
  const mask = previous.slice();
  for (const click of clicks) {
    const cx = Math.round(click.x);
    const cy = Math.round(click.y);
    // A click this deep inside a spill (or this far out from the mask) says the mistake is
    // about that thick: reach a few times further, not the whole box.
    const reach = Math.min(radius, Math.max(3, 3 * distanceToOther(mask, width, height, cx, cy, Math.ceil(radius))));
    const changes = (p: number) => (click.label === 1 ? next[p] === 1 && mask[p] === 0 : next[p] === 0 && mask[p] === 1);
    const start = cy * width + cx;
    if (!changes(start)) continue;
    const seen = new Uint8Array(width * height);
    const stack = [start];
    seen[start] = 1;
    while (stack.length > 0) {
      const p = stack.pop()!;
      mask[p] = click.label;
      const x = p % width;
      const y = Math.floor(p / width);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const qx = x + dx;
          const qy = y + dy;
          if (qx < 0 || qy < 0 || qx >= width || qy >= height || Math.hypot(qx - click.x, qy - click.y) > reach) continue;
          const q = qy * width + qx;
          if (!seen[q] && changes(q)) {
            seen[q] = 1;
            stack.push(q);
          }
        }
      }
    }
  }
  return mask;
}
