// The ASM interface: what every segmenter (MedSAM2 on ONNX Runtime, the default
// classical segmenter, the tiny test model) takes and gives back.

/** [x0, y0, x1, y1]: inclusive pixel corners, x = column, y = row. */
export type PixelBox = [number, number, number, number];

export interface PromptPoint {
  x: number;
  y: number;
  /** 1 positive (on the target), 0 negative (not on the target). */
  label: 0 | 1;
}

/**
 * What the box says about the structure's extent. `tight`: drawn touching it on all four
 * sides (the box's shape is a strong prior); `loose`: around it with a margin; `propagated`:
 * the previous slice's mask box, grown (propagation.ts), which says nothing about this
 * slice's extent and must let the structure shrink where it ends. Absent: the segmenter
 * judges from its cut (a person's box is usually tight).
 */
export type BoxKind = 'tight' | 'loose' | 'propagated';
export const BOX_KINDS: readonly BoxKind[] = ['tight', 'loose', 'propagated'];

export interface SegmentPrompts {
  box: PixelBox | null;
  points: PromptPoint[];
  boxKind?: BoxKind;
}

/** A slice ready for segmentation. */
export interface SegmentImage {
  /** Cache key: the same key means the same pixels and window (embeddings are reused). */
  key: string;
  width: number;
  height: number;
  /** Modality values (HU for CT), row by row. */
  pixels: Float32Array;
  /** Intensity window [lower, upper] the slice is displayed through. */
  window: { lower: number; upper: number };
  /**
   * The 8-bit picture of the slice through that window, as displayed (image-prep.ts
   * slicePicture): what MedSAM2 sees, the CRM's image in `ask`. The default segmenter works
   * on the modality values instead.
   */
  picture: Uint8Array;
}

export type SegmenterKind = 'medsam2' | 'default';

export interface SegmentOutcome {
  /** width × height, 1 inside the mask. */
  mask: Uint8Array;
  width: number;
  height: number;
  area: number;
  segmenter: { kind: SegmenterKind; id: string; label: string };
  /** MedSAM2: the predicted IoU of the chosen mask, and of all three. */
  score: number | null;
  scores: number[] | null;
  /** Milliseconds per stage (e.g. encoder, decoder, postprocess). */
  timings: Record<string, number>;
  /** True when the image embedding came from the cache (a refinement click). */
  embeddingCached: boolean;
  /** Why the segmenter doubts this mask, in words (the default segmenter); absent when it does not. */
  lowConfidence?: string;
}

export interface Segmenter {
  readonly kind: SegmenterKind;
  readonly id: string;
  readonly label: string;
  segment(image: SegmentImage, prompts: SegmentPrompts, signal?: AbortSignal): Promise<SegmentOutcome>;
  dispose(): Promise<void>;
}

export const DEFAULT_SEGMENTER_LABEL = 'Default segmenter (classical graph cut, no model weights)';

/** Checks prompts against the image; returns the problems in words (empty when valid). */
export function promptProblems(prompts: SegmentPrompts, width: number, height: number): string[] {
  const problems: string[] = [];
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x <= width - 1 && y <= height - 1;
  if (!prompts.box && prompts.points.length === 0) problems.push('give a box, at least one point, or both');
  if (prompts.box) {
    const [x0, y0, x1, y1] = prompts.box;
    if (![x0, y0, x1, y1].every(Number.isFinite)) problems.push(`box ${prompts.box.join(',')} has a non-number`);
    else if (x1 < x0 || y1 < y0) problems.push(`box ${prompts.box.join(',')}: x1 must be ≥ x0 and y1 ≥ y0 (inclusive corners)`);
    else if (!inside(x0, y0) || !inside(x1, y1)) problems.push(`box ${prompts.box.join(',')} is not inside the ${width}×${height} image (0..${width - 1}, 0..${height - 1})`);
  }
  for (const point of prompts.points) {
    if (!Number.isFinite(point.x) || !Number.isFinite(point.y)) problems.push(`point ${point.x},${point.y} has a non-number`);
    else if (!inside(point.x, point.y)) problems.push(`point ${point.x},${point.y} is outside the ${width}×${height} image`);
    if (point.label !== 0 && point.label !== 1) problems.push(`point ${point.x},${point.y}: label must be 1 (positive) or 0 (negative)`);
  }
  if (!prompts.box && !prompts.points.some((p) => p.label === 1)) problems.push('without a box, give at least one positive point');
  if (prompts.boxKind !== undefined && !BOX_KINDS.includes(prompts.boxKind)) problems.push(`box kind "${String(prompts.boxKind)}" is not one of ${BOX_KINDS.join(', ')}`);
  if (prompts.boxKind !== undefined && !prompts.box) problems.push(`box kind "${prompts.boxKind}" given without a box`);
  return problems;
}
