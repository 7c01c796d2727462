// The CRM sees a slice as the seed's processor path would show it: qwen_vl_utils.fetch_image
// (smart_resize, PIL bicubic) then transformers' Qwen2VLImageProcessor, both run here in
// Python as the judge. For each image the app's resized size and image_grid_thw must be
// equal, its 8-bit picture identical to fetch_image's, and pixel_values equal to float32
// rounding. Tolerance: transformers computes (x − 255·mean)/(255·std) in one fused step and
// transformers.js (x/255 − mean)/std in two, so values up to ~2.2 may differ by a few
// float32 ulps (2.4e-7 each); 1e-5 allows that and is still ~1,500× below one grey level
// (1/(255·std) ≈ 0.0146), so a single resampled pixel off by one would fail.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoImageProcessor, RawImage, type ImageProcessor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { crmPicture, qwenResizeLimits } from '../../electron/host/inference/crm-image.ts';
import { qwenSmartResize } from '../../electron/host/inference/qwen-image-resize.ts';
import { QWEN25_VL_PREPROCESSOR, runProjectPython } from './qwen-reference.ts';

const REFERENCE = String.raw`
import json, sys
import numpy as np
from PIL import Image
import qwen_vl_utils
from qwen_vl_utils import fetch_image, smart_resize as qvu_smart_resize
from transformers import AutoImageProcessor
from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize as hf_smart_resize
args = json.load(sys.stdin)
processor = AutoImageProcessor.from_pretrained(args["dir"])
results = []
for item in args["images"]:
    grey = np.fromfile(item["file"], dtype=np.uint8).reshape(item["height"], item["width"])
    # The seed hands fetch_image a PIL image of the 8-bit picture, three channels.
    image = fetch_image({"image": Image.fromarray(np.stack([grey] * 3, axis=-1))})
    seen = np.asarray(image)
    assert (seen[..., 0] == seen[..., 1]).all() and (seen[..., 0] == seen[..., 2]).all()
    seen[..., 0].astype(np.uint8).tofile(item["file"] + ".seen")
    out = processor(images=[image], return_tensors="np")
    out["pixel_values"].astype(np.float32).tofile(item["file"] + ".pv")
    results.append({"size": list(image.size), "grid": out["image_grid_thw"].tolist(), "pvShape": list(out["pixel_values"].shape)})
sizes = []
for w, h in args["sizes"]:
    qh, qw = qvu_smart_resize(h, w, factor=28, min_pixels=args["minPixels"], max_pixels=args["maxPixels"])
    hh, hw = hf_smart_resize(h, w, factor=28, min_pixels=args["minPixels"], max_pixels=args["maxPixels"])
    sizes.append({"qwen_vl_utils": [qw, qh], "transformers": [hw, hh]})
print(json.dumps({"processor": type(processor).__name__, "results": results, "sizes": sizes}))
`;

interface Reference {
  processor: string;
  results: { size: [number, number]; grid: number[][]; pvShape: number[] }[];
  sizes: { qwen_vl_utils: [number, number]; transformers: [number, number] }[];
}

/** A CT-like 8-bit picture with what resampling shows: edges, a disc, fine stripes, noise. */
function structured(width: number, height: number, seed: number): Uint8Array {
  const out = new Uint8Array(width * height);
  let s = seed;
  const r = Math.min(width, height) / 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      let v = (x / width) * 90 + (y / height) * 40;
      if (Math.hypot(x - width * 0.45, y - height * 0.55) < r) v += 80;
      if (((x >> 4) ^ (y >> 4)) & 1) v += 30;
      if (x > width * 0.7 && x % 3 === 0) v += 50; // stripes near the sampling rate
      v += (s % 23) - 11;
      out[y * width + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return out;
}

function rgbOf(grey: Uint8Array): Uint8ClampedArray {
  const rgb = new Uint8ClampedArray(grey.length * 3);
  for (let i = 0; i < grey.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = grey[i]!;
  return rgb;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

// w × h; 182 × 210 adds halves (6.5, 7.5 factors), where Python's round-half-even decides.
const IMAGES: [number, number][] = [
  [512, 512],
  [256, 256],
  [181, 217],
  [1024, 768],
  [182, 210],
];
// smart_resize alone: halves, below min_pixels, above max_pixels, thin strips.
const SIZES: [number, number][] = [
  [70, 70],
  [42, 98],
  [154, 266],
  [30, 20],
  [56, 56],
  [10, 300],
  [5000, 4000],
  [8000, 8000],
  [4000, 30],
  [1, 150],
  [513, 511],
];

let root: string;
let reference: Reference;
let processor: ImageProcessor;
const inputs: Uint8Array[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'crm-processor-'));
  await writeFile(path.join(root, 'preprocessor_config.json'), JSON.stringify(QWEN25_VL_PREPROCESSOR, null, 2));
  const images = await Promise.all(
    IMAGES.map(async ([width, height], i) => {
      const grey = structured(width, height, 1000 + i);
      inputs.push(grey);
      const file = path.join(root, `image-${i}.raw`);
      await writeFile(file, grey);
      return { file, width, height };
    }),
  );
  [reference, processor] = await Promise.all([
    runProjectPython<Reference>(REFERENCE, { dir: root, images, sizes: SIZES, minPixels: QWEN25_VL_PREPROCESSOR.min_pixels, maxPixels: QWEN25_VL_PREPROCESSOR.max_pixels }),
    AutoImageProcessor.from_pretrained(root, { local_files_only: true }),
  ]);
}, 120_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the CRM image: app vs qwen_vl_utils.fetch_image + transformers Qwen2VLImageProcessor', () => {
  test('the Python judge is the slow-path class the seed loads', () => {
    expect(reference.processor).toBe('Qwen2VLImageProcessor');
  });

  IMAGES.forEach(([width, height], i) => {
    test(`${width}×${height}: same resized size and grid, identical 8-bit picture, pixel_values within 1e-5`, async () => {
      const ref = reference.results[i]!;
      const limits = qwenResizeLimits(QWEN25_VL_PREPROCESSOR);
      const picture = crmPicture(inputs[i]!, width, height, limits);
      expect([picture.width, picture.height]).toEqual(ref.size);

      const seen = new Uint8Array(await readFile(path.join(root, `image-${i}.raw.seen`)));
      let differing = 0;
      for (let k = 0; k < seen.length; k++) if (seen[k] !== picture.grey[k]) differing++;
      expect(picture.grey.length).toBe(seen.length);
      expect(differing, 'pixels that differ from PIL bicubic').toBe(0);

      const out = await processor(picture.image);
      expect((out.image_grid_thw.tolist() as bigint[][]).map((row) => row.map(Number))).toEqual(ref.grid);
      expect(out.reshaped_input_sizes).toEqual([[ref.size[1], ref.size[0]]]);
      expect(out.pixel_values.dims).toEqual(ref.pvShape);
      const hf = new Float32Array((await readFile(path.join(root, `image-${i}.raw.pv`))).buffer.slice(0));
      const app = out.pixel_values.data as Float32Array;
      expect(app.length).toBe(hf.length);
      expect(maxAbsDiff(app, hf)).toBeLessThan(1e-5);

      // For the record (not a requirement): what transformers.js alone (sharp's affine
      // bicubic, half-up rounding) would have fed the model.
      const own = await processor(new RawImage(rgbOf(inputs[i]!), width, height, 3));
      const ownGrid = (own.image_grid_thw.tolist() as bigint[][])[0]!.map(Number);
      const std = Math.min(...QWEN25_VL_PREPROCESSOR.image_std);
      const ownDiff = own.pixel_values.data.length === hf.length ? maxAbsDiff(own.pixel_values.data as Float32Array, hf) : null;
      console.info(
        `${width}×${height}: app max |Δ| ${maxAbsDiff(app, hf).toExponential(2)}; transformers.js alone: grid ${ownGrid.join('×')} vs ${ref.grid[0]!.join('×')}` +
          (ownDiff === null ? ' (different size)' : `, max |Δ| ${ownDiff.toFixed(4)} (≈ ${(ownDiff * std * 255).toFixed(1)} grey levels)`),
      );
    });
  });

  test('limits come from min_pixels/max_pixels, else size.shortest_edge/longest_edge (transformers 5 writes those); nonsense is refused', () => {
    expect(qwenResizeLimits(QWEN25_VL_PREPROCESSOR)).toEqual({ factor: 28, minPixels: 3136, maxPixels: 12845056 });
    expect(qwenResizeLimits({ patch_size: 14, merge_size: 2, size: { shortest_edge: 3136, longest_edge: 1003520 } })).toEqual({ factor: 28, minPixels: 3136, maxPixels: 1003520 });
    expect(() => qwenResizeLimits({ patch_size: 14, merge_size: 2 })).toThrow(/min_pixels\/max_pixels/);
    expect(() => qwenResizeLimits({ patch_size: 14, merge_size: 2, min_pixels: 5000, max_pixels: 4000 })).toThrow(/min ≤ max/);
    expect(() => qwenResizeLimits({ patch_size: 14, min_pixels: 1, max_pixels: 2 })).toThrow(/merge_size/);
  });

  test('smart_resize equals qwen_vl_utils (halves to even, min/max pixel limits, thin strips)', () => {
    const limits = qwenResizeLimits(QWEN25_VL_PREPROCESSOR);
    SIZES.forEach(([width, height], i) => {
      const ref = reference.sizes[i]!;
      expect(qwenSmartResize(width, height, limits), `${width}×${height}`).toEqual(ref.qwen_vl_utils);
    });
  });
});
