// The corrective click a person makes after a first answer: on the biggest mistake, at its
// deepest pixel — positive where the answer misses the target, negative where it spills.
// The benchmarks use it to measure what one refinement click is worth.
import { distanceInside } from './ground-truth-prompts.ts';
import type { PromptPoint } from './segmenter-types.ts';

/** Sizes of the 4-connected components of `mask`, and each pixel's component (0 = none). */
function componentsOf(mask: Uint8Array, width: number, height: number): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(mask.length);
  const sizes = [0];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    const id = sizes.length;
    sizes.push(0);
    labels[start] = id;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      sizes[id]!++;
      const x = p % width;
      for (const q of [x + 1 < width ? p + 1 : -1, x > 0 ? p - 1 : -1, p + width < mask.length ? p + width : -1, p - width]) {
        if (q >= 0 && mask[q] && !labels[q]) {
          labels[q] = id;
          stack.push(q);
        }
      }
    }
  }
  void height;
  return { labels, sizes };
}

/** The click on the largest error region, or null when the answer is already exact. */
export function correctiveClick(predicted: ArrayLike<number>, truth: ArrayLike<number>, width: number, height: number): PromptPoint | null {
  const missed = new Uint8Array(width * height);
  const spilled = new Uint8Array(width * height);
  for (let i = 0; i < missed.length; i++) {
    if (truth[i] && !predicted[i]) missed[i] = 1;
    else if (!truth[i] && predicted[i]) spilled[i] = 1;
  }
  let best: { mask: Uint8Array; labels: Int32Array; id: number; size: number; label: 0 | 1 } | null = null;
  for (const [mask, label] of [
    [missed, 1],
    [spilled, 0],
  ] as const) {
    const { labels, sizes } = componentsOf(mask, width, height);
    for (let id = 1; id < sizes.length; id++) if (!best || sizes[id]! > best.size) best = { mask, labels, id, size: sizes[id]!, label };
  }
  if (!best) return null;
  const region = new Uint8Array(width * height);
  for (let i = 0; i < region.length; i++) region[i] = best.labels[i] === best.id ? 1 : 0;
  const depth = distanceInside(region, width, height);
  let deepest = -1;
  for (let i = 0; i < depth.length; i++) if (region[i] && (deepest < 0 || depth[i]! > depth[deepest]!)) deepest = i;
  return { x: deepest % width, y: Math.floor(deepest / width), label: best.label };
}
