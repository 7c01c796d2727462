// MedSAM2 (the ASM) on ONNX Runtime, directly rather than through transformers.js's
// Sam2Model/Sam2Processor: it takes the slice's 8-bit picture (the CRM's image, as the seed
// gives SAM2ImagePredictor), the image embedding is cached per slice
// so a refinement click runs only the prompt/mask decoder, and prompts are scaled and masks
// resized exactly as SAM2ImagePredictor does. The model folder is the same one
// transformers.js reads (config.json, preprocessor_config.json, onnx/…).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { DTYPE_SUFFIX, findVariant, type ModelManifest } from '../models/manifest.ts';
import { signatureProblems } from '../models/signatures.ts';
import { checkFiles } from '../models/file-check.ts';
import { variantFiles } from '../models/manifest.ts';
import { IMAGENET_MEAN, IMAGENET_STD, logitsToMask, medsamPixelValues } from './image-prep.ts';
import type { ProviderName } from './execution-provider.ts';
import type { SegmentImage, SegmentOutcome, Segmenter, SegmentPrompts } from './segmenter-types.ts';
import { promptProblems } from './segmenter-types.ts';

export class ModelLoadError extends Error {
  readonly modelId: string;
  constructor(modelId: string, message: string) {
    super(message);
    this.name = 'ModelLoadError';
    this.modelId = modelId;
  }
}

interface Preprocessor {
  size: number;
  mean: readonly number[];
  std: readonly number[];
}

async function readPreprocessor(dir: string, modelId: string): Promise<Preprocessor> {
  const file = path.join(dir, 'preprocessor_config.json');
  let json: { size?: { height?: number; width?: number; longest_edge?: number }; image_mean?: number[]; image_std?: number[] };
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ModelLoadError(modelId, `${file} is missing or not JSON (${(error as Error).message})`);
  }
  const size = json.size?.height ?? json.size?.longest_edge ?? 1024;
  if (json.size?.width !== undefined && json.size.width !== size) throw new ModelLoadError(modelId, `${file}: the SAM2 input must be square, got ${json.size.width}×${size}`);
  return { size, mean: json.image_mean ?? IMAGENET_MEAN, std: json.image_std ?? IMAGENET_STD };
}

interface CachedEmbedding {
  key: string;
  embeddings: Record<string, ort.Tensor>;
}

export interface Medsam2Options {
  dir: string;
  manifest: ModelManifest;
  variant: string;
  provider: ProviderName;
  /** Slices whose embeddings are kept (most recent first). */
  cacheSize?: number;
}

/** Loads MedSAM2's two sessions (after checking every file they need) and returns the segmenter. */
export async function loadMedsam2(options: Medsam2Options): Promise<Segmenter & { warm(): Promise<void> }> {
  const { dir, manifest, variant, provider } = options;
  const variantInfo = findVariant(manifest, variant);
  if (!variantInfo) throw new ModelLoadError(manifest.id, `model ${manifest.id} has no variant "${variant}"`);
  // ONNX Runtime aborts the process on a missing or short external data file: check first.
  const problems = await checkFiles(dir, variantFiles(manifest, variant), { hash: false });
  if (problems.length > 0) {
    throw new ModelLoadError(manifest.id, `model ${manifest.id} (${variant}) in ${dir} cannot be loaded:\n${problems.map((p) => `  - ${p.message}`).join('\n')}\nReinstall it: medreasoner models install ${manifest.id} --from <folder>`);
  }
  const preprocessor = await readPreprocessor(dir, manifest.id);
  const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: [provider], graphOptimizationLevel: 'all' };
  const open = async (name: string) => {
    const dtype = variantInfo.sessions[name] ?? 'fp32';
    const file = path.join(dir, 'onnx', `${name}${DTYPE_SUFFIX[dtype]}.onnx`);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, sessionOptions);
    } catch (error) {
      throw new ModelLoadError(manifest.id, `ONNX Runtime could not load ${file}: ${(error as Error).message}`);
    }
    const expected = manifest.sessions[name];
    if (expected) {
      const mismatch = signatureProblems(name, expected, session);
      if (mismatch.length > 0) throw new ModelLoadError(manifest.id, `${file} does not have the expected tensors: ${mismatch.join('; ')}`);
    }
    return session;
  };
  const encoder = await open('vision_encoder');
  const decoder = await open('prompt_encoder_mask_decoder');
  const cacheSize = options.cacheSize ?? 4;
  const cache: CachedEmbedding[] = [];
  const label = `MedSAM2 (${manifest.displayName}, ${variant}, ${provider.toUpperCase()})`;
  const size = preprocessor.size;

  async function embeddingsFor(image: SegmentImage): Promise<{ embeddings: Record<string, ort.Tensor>; cached: boolean; ms: Record<string, number> }> {
    const hit = cache.find((c) => c.key === image.key);
    if (hit) {
      cache.splice(cache.indexOf(hit), 1);
      cache.unshift(hit);
      return { embeddings: hit.embeddings, cached: true, ms: {} };
    }
    const t0 = performance.now();
    if (image.picture.length !== image.width * image.height) throw new RangeError(`the picture holds ${image.picture.length} pixels, the slice ${image.width}×${image.height}`);
    const pixelValues = medsamPixelValues(image.picture, image.width, image.height, size, preprocessor.mean, preprocessor.std);
    const t1 = performance.now();
    const output = await encoder.run({ pixel_values: new ort.Tensor('float32', pixelValues, [1, 3, size, size]) });
    const t2 = performance.now();
    const embeddings: Record<string, ort.Tensor> = {};
    for (const name of encoder.outputNames) embeddings[name] = output[name]!;
    cache.unshift({ key: image.key, embeddings });
    if (cache.length > cacheSize) cache.length = cacheSize;
    return { embeddings, cached: false, ms: { preprocess: t1 - t0, encoder: t2 - t1 } };
  }

  async function segment(image: SegmentImage, prompts: SegmentPrompts, signal?: AbortSignal): Promise<SegmentOutcome> {
    const problems = promptProblems(prompts, image.width, image.height);
    if (problems.length > 0) throw new RangeError(`invalid prompts: ${problems.join('; ')}`);
    signal?.throwIfAborted();
    const { embeddings, cached, ms } = await embeddingsFor(image);
    signal?.throwIfAborted();
    // SAM2ImagePredictor: coordinates × (model size / original size); the box as its two corners.
    const sx = size / image.width;
    const sy = size / image.height;
    const points = prompts.points;
    const t0 = performance.now();
    const feeds: Record<string, ort.Tensor> = {
      input_points: new ort.Tensor('float32', Float32Array.from(points.flatMap((p) => [p.x * sx, p.y * sy])), [1, 1, points.length, 2]),
      input_labels: new ort.Tensor('int64', BigInt64Array.from(points.map((p) => BigInt(p.label))), [1, 1, points.length]),
      input_boxes: prompts.box
        ? new ort.Tensor('float32', Float32Array.of(prompts.box[0] * sx, prompts.box[1] * sy, prompts.box[2] * sx, prompts.box[3] * sy), [1, 1, 4])
        : new ort.Tensor('float32', new Float32Array(0), [1, 0, 4]),
      ...embeddings,
    };
    const output = await decoder.run(feeds);
    const t1 = performance.now();
    const scores = Array.from(output.iou_scores!.data as Float32Array);
    const masks = output.pred_masks!;
    const [, , count, lowHeight, lowWidth] = masks.dims as number[];
    if (scores.length !== count) throw new Error(`the mask decoder returned ${scores.length} scores for ${count} masks`);
    // Multimask output: keep the mask with the highest predicted IoU, as the seed does.
    let best = 0;
    for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
    const plane = lowHeight! * lowWidth!;
    const logits = (masks.data as Float32Array).subarray(best * plane, (best + 1) * plane);
    const mask = logitsToMask(logits, lowWidth!, lowHeight!, image.width, image.height);
    const t2 = performance.now();
    let area = 0;
    for (let i = 0; i < mask.length; i++) area += mask[i]!;
    return {
      mask,
      width: image.width,
      height: image.height,
      area,
      segmenter: { kind: 'medsam2', id: manifest.id, label },
      score: scores[best]!,
      scores,
      timings: { ...ms, decoder: t1 - t0, postprocess: t2 - t1 },
      embeddingCached: cached,
    };
  }

  return {
    kind: 'medsam2',
    id: manifest.id,
    label,
    segment,
    /** Runs both sessions once on a blank slice, so the first real click is not the slow one. */
    async warm() {
      const blank: SegmentImage = { key: '__warm__', width: size, height: size, pixels: new Float32Array(size * size), window: { lower: 0, upper: 1 }, picture: new Uint8Array(size * size) };
      await segment(blank, { box: [0, 0, size / 2, size / 2], points: [] });
      const index = cache.findIndex((c) => c.key === '__warm__');
      if (index >= 0) cache.splice(index, 1);
    },
    async dispose() {
      cache.length = 0;
      await encoder.release();
      await decoder.release();
    },
  };
}
