// Carries an accepted slice mask through the volume by re-prompting: each next slice is
// segmented from the box and two interior points of the mask on the slice before it.
// This is the fallback the method describes for a segmenter without a memory bank
// (our MedSAM2 export has the image encoder and prompt decoder, not memory attention).
// It stops where the structure plausibly ends, since a box always yields *some* mask:
// nothing found, a sudden shrink (the structure tapers out), a sudden growth (leaking
// into a neighbour), a mask that no longer overlaps the previous one (drifted), or one
// whose tissue differs from the seed's (the box now frames the organ around a lesion
// that has ended, which a segmenter happily outlines at a similar size).
import type { PropagationStop } from '../../common/contract-inference.ts';
import { growBox, interiorPoints, maskBox } from './ground-truth-prompts.ts';
import type { PixelBox, PromptPoint } from './segmenter-types.ts';

export interface PropagationRules {
  /** Grow the previous mask's box by this fraction of its size on every side (the structure moves between slices). */
  boxGrowth: number;
  /** Stop when a mask has fewer pixels than this. */
  minArea: number;
  /** Stop when a mask is smaller than this fraction of the previous one. */
  minAreaRatio: number;
  /** Stop when a mask is larger than this multiple of the previous one. */
  maxAreaRatio: number;
  /** Stop when less than this fraction of the new mask lies inside the previous one. */
  minOverlap: number;
  /** Stop when the mask's mean intensity is more than this many seed standard deviations from the seed's mean… */
  maxMeanShiftSd: number;
  /** …and more than this many modality units (the floor keeps a uniform seed from stopping at noise). */
  minMeanShift: number;
}

export const DEFAULT_PROPAGATION_RULES: PropagationRules = { boxGrowth: 0.15, minArea: 4, minAreaRatio: 0.2, maxAreaRatio: 2.2, minOverlap: 0.3, maxMeanShiftSd: 1.5, minMeanShift: 10 };

export interface PropagationInput {
  width: number;
  height: number;
  sliceCount: number;
  fromSlice: number;
  /** width × height, non-zero inside. */
  seed: Uint8Array;
  direction: 'both' | 'backward' | 'forward';
  maxSlices: number;
  rules?: Partial<PropagationRules>;
  /** The seed slice's modality values (width × height), for the tissue check. */
  seedPixels: Float32Array;
  /** Segments one slice from prompts: its mask (width × height, 1 inside) and its modality values. */
  segmentSlice: (sliceIndex: number, box: PixelBox, points: PromptPoint[]) => Promise<{ mask: Uint8Array; pixels: Float32Array }>;
  onSlice?: (sliceIndex: number, area: number) => void;
  isCancelled?: () => boolean;
}

export interface PropagationOutcome {
  /** Accepted masks by slice index, seed included. */
  masks: Map<number, Uint8Array>;
  stopped: { backward: PropagationStop; forward: PropagationStop };
}

export interface Tissue {
  mean: number;
  sd: number;
}

/** Mean and standard deviation of the modality values under a mask. */
export function tissueUnder(mask: Uint8Array, pixels: Float32Array): Tissue {
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const v = pixels[i]!;
    n++;
    sum += v;
    sumSq += v * v;
  }
  const mean = n > 0 ? sum / n : 0;
  return { mean, sd: n > 1 ? Math.sqrt(Math.max(0, (sumSq - n * mean * mean) / (n - 1))) : 0 };
}

/** Whether a mask's tissue is no longer the seed's. */
export function tissueChanged(seed: Tissue, next: Tissue, rules: PropagationRules): boolean {
  const shift = Math.abs(next.mean - seed.mean);
  return shift > rules.maxMeanShiftSd * seed.sd && shift > rules.minMeanShift;
}

/** Why `next` should not be kept after `previous`, or null to keep it (tissue is checked apart). */
export function stopReason(previous: Uint8Array, next: Uint8Array, rules: PropagationRules): PropagationStop | null {
  let previousArea = 0;
  let area = 0;
  let overlap = 0;
  for (let i = 0; i < next.length; i++) {
    const inPrevious = previous[i] !== 0;
    const inNext = next[i] !== 0;
    if (inPrevious) previousArea++;
    if (inNext) {
      area++;
      if (inPrevious) overlap++;
    }
  }
  if (area < rules.minArea) return 'empty';
  if (area < rules.minAreaRatio * previousArea) return 'shrank';
  if (area > rules.maxAreaRatio * previousArea) return 'leaked';
  if (overlap < rules.minOverlap * area) return 'drifted';
  return null;
}

/** The prompts for the slice after `mask`: its grown box and two interior points. Null for an empty mask. */
export function promptsFromMask(mask: Uint8Array, width: number, height: number, boxGrowth: number): { box: PixelBox; points: PromptPoint[] } | null {
  const box = maskBox(mask, width, height);
  const interior = interiorPoints(mask, width, height);
  if (!box || !interior) return null;
  const grown = growBox(box, boxGrowth, width, height);
  // At least 2 px of margin: a 1-pixel-wide box leaves the segmenter no background to learn from.
  const padded: PixelBox = [Math.max(0, Math.min(grown[0], box[0] - 2)), Math.max(0, Math.min(grown[1], box[1] - 2)), Math.min(width - 1, Math.max(grown[2], box[2] + 2)), Math.min(height - 1, Math.max(grown[3], box[3] + 2))];
  const points = interior[0][0] === interior[1][0] && interior[0][1] === interior[1][1] ? [interior[0]] : interior;
  return { box: padded, points: points.map(([x, y]) => ({ x, y, label: 1 as const })) };
}

export async function propagateMask(input: PropagationInput): Promise<PropagationOutcome> {
  const rules = { ...DEFAULT_PROPAGATION_RULES, ...input.rules };
  const plane = input.width * input.height;
  if (input.seed.length !== plane) throw new RangeError(`the seed mask holds ${input.seed.length} pixels, a slice ${plane}`);
  if (input.fromSlice < 0 || input.fromSlice >= input.sliceCount) throw new RangeError(`slice ${input.fromSlice} is outside the series (0…${input.sliceCount - 1})`);
  const seed = Uint8Array.from(input.seed, (v) => (v ? 1 : 0));
  if (!promptsFromMask(seed, input.width, input.height, rules.boxGrowth)) throw new RangeError('the seed mask is empty: there is nothing to propagate');
  if (input.seedPixels.length !== plane) throw new RangeError(`the seed slice holds ${input.seedPixels.length} pixels, the mask ${plane}`);
  const seedTissue = tissueUnder(seed, input.seedPixels);
  const masks = new Map<number, Uint8Array>([[input.fromSlice, seed]]);
  let budget = input.maxSlices;

  const walk = async (step: 1 | -1): Promise<PropagationStop> => {
    let previous: Uint8Array = seed;
    for (let k = input.fromSlice + step; ; k += step) {
      if (k < 0 || k >= input.sliceCount) return 'series-end';
      if (budget <= 0) return 'limit';
      if (input.isCancelled?.()) return 'cancelled';
      const prompts = promptsFromMask(previous, input.width, input.height, rules.boxGrowth)!;
      const { mask: next, pixels } = await input.segmentSlice(k, prompts.box, prompts.points);
      if (input.isCancelled?.()) return 'cancelled';
      budget--;
      const reason = stopReason(previous, next, rules);
      if (reason) return reason;
      if (tissueChanged(seedTissue, tissueUnder(next, pixels), rules)) return 'tissue-changed';
      masks.set(k, next);
      input.onSlice?.(k, next.reduce((n, v) => n + (v ? 1 : 0), 0));
      previous = next;
    }
  };

  const backward = input.direction === 'forward' ? 'not-requested' : await walk(-1);
  const forward = input.direction === 'backward' ? 'not-requested' : await walk(1);
  return { masks, stopped: { backward, forward } };
}
