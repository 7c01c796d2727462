// The picture the CRM is given: the slice's 8-bit grey at its own aspect, resized as
// qwen_vl_utils.fetch_image does (qwen-image-resize.ts) to the size the processor would
// pick, grey replicated to three equal channels (so the RGB/BGR order the seed mixed up
// cannot matter). The processor then only rescales, normalises and cuts patches.
import { RawImage } from '@huggingface/transformers';
import { qwenFetchImage, type QwenResizeLimits } from './qwen-image-resize.ts';

/** The preprocessor_config.json fields the resize depends on. */
export interface QwenPreprocessorConfig {
  patch_size?: number;
  merge_size?: number;
  min_pixels?: number;
  max_pixels?: number;
  size?: { shortest_edge?: number; longest_edge?: number };
  /** Written by exports whose vision tower was traced at one grid (no longer supported). */
  medreasoner_fixed_size?: number | null;
}

export class PreprocessorConfigError extends Error {}

/**
 * Factor and pixel limits as both processors read them: min_pixels/max_pixels, else
 * size.shortest_edge/longest_edge (transformers 5.x writes the latter).
 */
export function qwenResizeLimits(config: QwenPreprocessorConfig): QwenResizeLimits {
  const patch = config.patch_size;
  const merge = config.merge_size;
  const minPixels = config.min_pixels ?? config.size?.shortest_edge;
  const maxPixels = config.max_pixels ?? config.size?.longest_edge;
  const positiveInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (!positiveInt(patch) || !positiveInt(merge)) throw new PreprocessorConfigError(`patch_size and merge_size must be positive integers (got ${patch}, ${merge})`);
  if (!positiveInt(minPixels) || !positiveInt(maxPixels) || minPixels! > maxPixels!) {
    throw new PreprocessorConfigError(`min_pixels/max_pixels (or size.shortest_edge/longest_edge) must be positive integers with min ≤ max (got ${minPixels}, ${maxPixels})`);
  }
  return { factor: patch! * merge!, minPixels: minPixels!, maxPixels: maxPixels! };
}

export interface CrmPicture {
  /** What the processor receives: RGB, three equal channels. */
  image: RawImage;
  /** The same picture as one grey channel. */
  grey: Uint8Array;
  width: number;
  height: number;
}

export function crmPicture(grey: Uint8Array, width: number, height: number, limits: QwenResizeLimits): CrmPicture {
  const resized = qwenFetchImage(grey, width, height, limits);
  const rgb = new Uint8ClampedArray(resized.grey.length * 3);
  for (let i = 0; i < resized.grey.length; i++) {
    const v = resized.grey[i]!;
    rgb[i * 3] = v;
    rgb[i * 3 + 1] = v;
    rgb[i * 3 + 2] = v;
  }
  return { image: new RawImage(rgb, resized.width, resized.height, 3), grey: resized.grey, width: resized.width, height: resized.height };
}
