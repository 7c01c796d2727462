// Propagation of an accepted slice mask through the neighbouring slices: each slice is
// prompted with the previous slice's mask's bounding box (grown by a margin), upwards
// and downwards, until the mask vanishes or shrinks below a fraction of the start's:
// that is where the structure ends. The segmenter is injected, so this is pure and
// testable; the panel passes inference.segment.
import type { PixelBox } from './ask-geometry.ts';
import { maskArea, maskBounds } from './ask-metrics.ts';

export type SegmentSlice = (sliceIndex: number, box: PixelBox) => Promise<Uint8Array>;

export type PropagateOptions = {
  startSlice: number;
  startMask: Uint8Array;
  width: number;
  height: number;
  slices: number;
  segment: SegmentSlice;
  /** Stop where a slice's mask is smaller than this fraction of the start mask (default 0.15). */
  minFraction?: number;
  /** Pixels added around the previous mask's box (default 3). */
  margin?: number;
  /** At most this many slices each way (default: the whole series). */
  maxSlices?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, sliceIndex: number) => void;
};

export type PropagateResult = { masks: Map<number, Uint8Array>; cancelled: boolean; stoppedAt: { up: number | null; down: number | null } };

export async function propagateMask(options: PropagateOptions): Promise<PropagateResult> {
  const { startSlice, startMask, width, height, slices, segment, signal } = options;
  const minFraction = options.minFraction ?? 0.15;
  const margin = options.margin ?? 3;
  const maxSlices = options.maxSlices ?? slices;
  const startArea = maskArea(startMask);
  const masks = new Map<number, Uint8Array>();
  const stoppedAt: PropagateResult['stoppedAt'] = { up: null, down: null };
  if (startArea === 0) return { masks, cancelled: false, stoppedAt };
  const minArea = Math.max(1, Math.ceil(startArea * minFraction));
  let done = 0;
  for (const direction of [-1, 1] as const) {
    let previous = startMask;
    for (let step = 1; step <= maxSlices; step++) {
      const sliceIndex = startSlice + direction * step;
      if (sliceIndex < 0 || sliceIndex >= slices) break;
      if (signal?.aborted) return { masks, cancelled: true, stoppedAt };
      const bounds = maskBounds(previous, width)!;
      const box: PixelBox = [
        Math.max(0, bounds[0] - margin),
        Math.max(0, bounds[1] - margin),
        Math.min(width - 1, bounds[2] + margin),
        Math.min(height - 1, bounds[3] + margin),
      ];
      const mask = await segment(sliceIndex, box);
      if (signal?.aborted) return { masks, cancelled: true, stoppedAt };
      done++;
      options.onProgress?.(done, sliceIndex);
      if (maskArea(mask) < minArea) {
        stoppedAt[direction < 0 ? 'up' : 'down'] = sliceIndex;
        break;
      }
      masks.set(sliceIndex, mask);
      previous = mask;
    }
  }
  return { masks, cancelled: false, stoppedAt };
}
