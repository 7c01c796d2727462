// Propagation of an accepted slice mask through the neighbouring slices, upwards and
// downwards. Each slice is prompted with the previous slice's mask: its bounding box
// (grown by a margin) and a positive point at its deepest inside pixel. A structure moves
// little between neighbouring slices, so the new mask is kept within a few pixels of the
// previous one (a box-prompted segmenter otherwise leaks into neighbouring tissue, slice
// after slice). It stops where the mask vanishes or shrinks below a fraction of the
// start's: that is where the structure ends. The segmenter is injected, so this is pure
// and testable; the panel passes inference.segment.
import type { SegmentationModel } from '../segmentation/segmentation-model.ts';
import type { PixelBox } from './ask-geometry.ts';
import { maskArea, maskBounds } from './ask-metrics.ts';

export type SegmentSlice = (sliceIndex: number, box: PixelBox, positive: { x: number; y: number }) => Promise<Uint8Array>;

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
  /** How far (pixels) the outline may move from one slice to the next (default 4). */
  maxShift?: number;
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
  const maxShift = options.maxShift ?? 4;
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
      const raw = await segment(sliceIndex, box, deepestPixel(previous, width, height));
      if (signal?.aborted) return { masks, cancelled: true, stoppedAt };
      const allowed = dilate(previous, width, height, maxShift);
      const mask = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) if (raw[i] && allowed[i]) mask[i] = 1;
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

/** Pixels within `radius` (chessboard distance) of the mask. */
export function dilate(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  let current = mask;
  for (let r = 0; r < radius; r++) {
    const next = current.slice();
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (current[y * width + x]) continue;
        for (let dy = -1; dy <= 1 && !next[y * width + x]; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            const yy = y + dy;
            if (xx >= 0 && yy >= 0 && xx < width && yy < height && current[yy * width + xx]) {
              next[y * width + x] = 1;
              break;
            }
          }
        }
      }
    }
    current = next;
  }
  return current;
}

/** The mask pixel farthest from its outline (a safe positive point), by repeated erosion. */
export function deepestPixel(mask: Uint8Array, width: number, height: number): { x: number; y: number } {
  let current = mask;
  for (;;) {
    const next = new Uint8Array(current.length);
    let any = false;
    for (let y = 1; y < height - 1; y++) {
      for (let x = 1; x < width - 1; x++) {
        const i = y * width + x;
        if (current[i] && current[i - 1] && current[i + 1] && current[i - width] && current[i + width]) {
          next[i] = 1;
          any = true;
        }
      }
    }
    if (!any) break;
    current = next;
  }
  // Of the last survivors, the one nearest their centre.
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let i = 0; i < current.length; i++) if (current[i]) (sx += i % width), (sy += Math.floor(i / width)), n++;
  const cx = sx / Math.max(1, n);
  const cy = sy / Math.max(1, n);
  let best = { x: Math.round(cx), y: Math.round(cy), d: Infinity };
  for (let i = 0; i < current.length; i++) {
    if (!current[i]) continue;
    const x = i % width;
    const y = Math.floor(i / width);
    const d = (x - cx) ** 2 + (y - cy) ** 2;
    if (d < best.d) best = { x, y, d };
  }
  return { x: best.x, y: best.y };
}

/**
 * Writes propagated masks into a segment as one undoable step (locked segments keep
 * their voxels). Returns the slices written, in order.
 */
export function applyPropagation(model: SegmentationModel, segmentNumber: number, masks: ReadonlyMap<number, Uint8Array>): number[] {
  const segment = model.segment(segmentNumber);
  if (!segment) throw new RangeError(`there is no segment ${segmentNumber}`);
  const slices = [...masks.keys()].sort((a, b) => a - b);
  if (slices.length === 0) return [];
  const locked = model.lockedNumbers();
  model.edit(
    `Propagate ${segment.label}`,
    (labelmap) => {
      for (const [sliceIndex, mask] of masks) {
        if (mask.length !== model.sliceLength) throw new RangeError(`a propagated mask holds ${mask.length} pixels, a slice ${model.sliceLength}`);
        const offset = sliceIndex * model.sliceLength;
        for (let i = 0; i < mask.length; i++) if (mask[i] && !locked.has(labelmap[offset + i]!)) labelmap[offset + i] = segmentNumber;
      }
    },
    { firstSlice: slices[0]!, lastSlice: slices.at(-1)!, keepProvenance: true },
  );
  return slices;
}
