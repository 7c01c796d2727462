// Turning a slice's modality values into what the models were given in the seed.
//  - Both models see one 8-bit picture: the slice through the display window (DICOM's linear
//    VOI function), MONOCHROME1 inverted as it is displayed, grey in three channels. The seed
//    (PRIS-CV/MedReasoner eval/infer.py) reads one 8-bit PNG (a U-MRG export: CT/MR already
//    windowed) and hands that same array to the CRM and to SAM2ImagePredictor.set_image; its
//    MedSAM2 path does no intensity step of its own (no clip or min-max, which only MedSAM2's
//    3D NIfTI scripts do before their video predictor).
//  - MedSAM2 then (SAM2ImagePredictor's transforms) /255, resize to the model size
//    (bilinear, antialiased when shrinking), ImageNet mean/std.
// And back: the decoder's low-resolution mask logits resized to the slice (bilinear,
// half-pixel centres, no antialias, as F.interpolate does) and thresholded at 0.

export interface Window {
  center: number;
  width: number;
}

/** [lower, upper] of a window. */
export function windowBounds(window: Window): { lower: number; upper: number } {
  return { lower: window.center - window.width / 2, upper: window.center + window.width / 2 };
}

/** DICOM PS3.3 C.11.2.1.2 linear VOI function to 0–255; `invert` for MONOCHROME1. */
export function windowToUint8(pixels: Float32Array, window: Window, invert = false): Uint8Array {
  const out = new Uint8Array(pixels.length);
  const c = window.center - 0.5;
  const w = Math.max(window.width - 1, 1e-6);
  const low = c - w / 2;
  const high = c + w / 2;
  for (let i = 0; i < pixels.length; i++) {
    const x = pixels[i]!;
    let v = x <= low ? 0 : x > high ? 255 : ((x - c) / w + 0.5) * 255;
    v = Math.round(v);
    out[i] = invert ? 255 - v : v;
  }
  return out;
}

/** The 8-bit picture both models see: the slice through `window`, as displayed (MONOCHROME1 inverted). */
export function slicePicture(slice: { pixels: Float32Array; invert: boolean }, window: Window): Uint8Array {
  return windowToUint8(slice.pixels, window, slice.invert);
}

/** A default window when the caller gives none: the file's own, else the 0.5–99.5 percentile range. */
export function defaultWindow(pixels: Float32Array, fileWindow?: { windowCenter?: number; windowWidth?: number }): Window {
  if (fileWindow?.windowCenter !== undefined && fileWindow.windowWidth !== undefined && fileWindow.windowWidth > 0) {
    return { center: fileWindow.windowCenter, width: fileWindow.windowWidth };
  }
  const sorted = Float32Array.from(pixels).sort();
  const lo = sorted[Math.floor(0.005 * (sorted.length - 1))]!;
  const hi = sorted[Math.ceil(0.995 * (sorted.length - 1))]!;
  return { center: (lo + hi) / 2, width: Math.max(hi - lo, 1) };
}

/**
 * Resamples a single-channel image (bilinear; with `antialias`, the triangle filter widens
 * by the shrink factor, as torchvision's antialiased resize and PIL do).
 */
export function resizeBilinear(source: Float32Array, width: number, height: number, outWidth: number, outHeight: number, antialias: boolean): Float32Array {
  const horizontal = resampleWeights(width, outWidth, antialias);
  const vertical = resampleWeights(height, outHeight, antialias);
  const temp = new Float32Array(outWidth * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outWidth; x++) {
      const { start, weights } = horizontal[x]!;
      let acc = 0;
      for (let k = 0; k < weights.length; k++) acc += source[y * width + start + k]! * weights[k]!;
      temp[y * outWidth + x] = acc;
    }
  }
  const out = new Float32Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const { start, weights } = vertical[y]!;
    for (let x = 0; x < outWidth; x++) {
      let acc = 0;
      for (let k = 0; k < weights.length; k++) acc += temp[(start + k) * outWidth + x]! * weights[k]!;
      out[y * outWidth + x] = acc;
    }
  }
  return out;
}

function resampleWeights(inSize: number, outSize: number, antialias: boolean): { start: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  const support = antialias && scale > 1 ? scale : 1;
  const result: { start: number; weights: Float64Array }[] = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale - 0.5; // half-pixel centres (align_corners = False)
    if (support === 1) {
      // Plain bilinear, clamped at the edges.
      const c = Math.min(Math.max(centre, 0), inSize - 1);
      const left = Math.min(Math.floor(c), inSize - 1);
      const right = Math.min(left + 1, inSize - 1);
      const t = c - left;
      result.push(right === left ? { start: left, weights: Float64Array.of(1) } : { start: left, weights: Float64Array.of(1 - t, t) });
      continue;
    }
    const start = Math.max(0, Math.floor(centre - support) + 1);
    const end = Math.min(inSize - 1, Math.ceil(centre + support) - 1);
    const weights = new Float64Array(end - start + 1);
    let sum = 0;
    for (let j = start; j <= end; j++) {
      const w = Math.max(0, 1 - Math.abs(j - centre) / support);
      weights[j - start] = w;
      sum += w;
    }
    for (let k = 0; k < weights.length; k++) weights[k] = weights[k]! / sum;
    result.push({ start, weights });
  }
  return result;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** The MedSAM2 encoder's input, [1, 3, size, size] float32, from the 8-bit grey picture (equal channels). */
export function medsamPixelValues(
  grey: Uint8Array,
  width: number,
  height: number,
  size: number,
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): Float32Array {
  const unit = new Float32Array(grey.length);
  for (let i = 0; i < grey.length; i++) unit[i] = grey[i]! / 255;
  const resized = resizeBilinear(unit, width, height, size, size, true);
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const m = mean[c]!;
    const s = std[c]!;
    for (let i = 0; i < plane; i++) out[c * plane + i] = (resized[i]! - m) / s;
  }
  return out;
}

/** Low-resolution mask logits → a binary mask at the slice's size (logit > 0 is inside). */
export function logitsToMask(logits: Float32Array, lowWidth: number, lowHeight: number, width: number, height: number): Uint8Array {
  const resized = resizeBilinear(logits, lowWidth, lowHeight, width, height, false);
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = resized[i]! > 0 ? 1 : 0;
  return mask;
}
