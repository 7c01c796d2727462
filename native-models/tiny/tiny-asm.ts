// The tiny ASM: a SAM2 model folder with MedSAM2's export layout (config.json,
// preprocessor_config.json, onnx/vision_encoder.onnx + .onnx_data,
// onnx/prompt_encoder_mask_decoder.onnx) and the real tensor signatures. Its "mask" is
// the rectangle spanned by every prompt coordinate (box corners and points), as a signed
// distance in the model's input frame, so a test can check that preprocessing, prompt
// scaling, best-of-multimask and post-processing bring the user's box back in original
// pixels. Mask 1 of 3 is the rectangle and has the highest predicted IoU: picking by
// position instead of by score gives a visibly wrong mask.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GraphBuilder, seededFloats } from './onnx-graph.ts';

export interface TinyAsmOptions {
  /** Model input size (MedSAM2: 512). */
  imageSize?: number;
}

export interface TinyAsmResult {
  dir: string;
  imageSize: number;
  files: string[];
  /** Predicted IoU of each of the three masks; the rectangle is at the best one. */
  iouScores: [number, number, number];
}

export const TINY_ASM_IOU_SCORES: [number, number, number] = [0.25, 0.9, 0.5];
const FEATURE_LEVELS = [
  { channels: 32, stride: 4 },
  { channels: 64, stride: 8 },
  { channels: 256, stride: 16 },
] as const;

function visionEncoderGraph(size: number): GraphBuilder {
  const g = new GraphBuilder('vision_encoder');
  g.input('pixel_values', 'float', ['batch_size', 3, size, size]);
  FEATURE_LEVELS.forEach(({ channels, stride }, level) => {
    const weight = g.floats(seededFloats(channels * 3 * stride * stride, 100 + level, 0.05), [channels, 3, stride, stride], {
      name: `neck.${level}.weight`,
      external: true,
    });
    const name = `image_embeddings.${level}`;
    g.one('Conv', ['pixel_values', weight], { kernel_shape: [stride, stride], strides: [stride, stride] }, name);
    g.output(name, 'float', ['batch_size', channels, size / stride, size / stride]);
  });
  return g;
}

function decoderGraph(size: number): GraphBuilder {
  const low = size / 4;
  const g = new GraphBuilder('prompt_encoder_mask_decoder');
  g.input('input_points', 'float', ['batch_size', 'point_batch_size', 'num_points', 2]);
  g.input('input_labels', 'int64', ['batch_size', 'point_batch_size', 'num_points']);
  g.input('input_boxes', 'float', ['batch_size', 'num_boxes', 4]);
  FEATURE_LEVELS.forEach(({ channels, stride }, level) => {
    g.input(`image_embeddings.${level}`, 'float', ['batch_size', channels, size / stride, size / stride]);
  });
  const slice = (x: string, start: number, end: number, axis: number) =>
    g.one('Slice', [x, g.int64s([start]), g.int64s([end]), g.int64s([axis])]);
  const pointsShape = g.one('Shape', ['input_points']);
  const batch = slice(pointsShape, 0, 1, 0);
  const pointBatch = slice(pointsShape, 1, 2, 0);
  const perImage = (x: string) => g.one('Reshape', [x, g.one('Concat', [batch, g.int64s([-1])], { axis: 0 })]);
  const sentinel = (value: number) => g.one('Expand', [g.floats([value], [1, 1]), g.one('Concat', [batch, g.int64s([1])], { axis: 0 })]);
  // Every coordinate on one axis: the points', both box corners', and a sentinel so that
  // an empty prompt list (box-only or points-only prompts) still reduces.
  const extent = (axis: 0 | 1) => {
    const values = [perImage(slice('input_points', axis, axis + 1, 3)), perImage(slice('input_boxes', axis, axis + 1, 2)), perImage(slice('input_boxes', axis + 2, axis + 3, 2))];
    const min = g.one('ReduceMin', [g.one('Concat', [...values, sentinel(1e9)], { axis: 1 })], { axes: [1], keepdims: 0 });
    const max = g.one('ReduceMax', [g.one('Concat', [...values, sentinel(-1e9)], { axis: 1 })], { axes: [1], keepdims: 0 });
    return { min, max };
  };
  const x = extent(0);
  const y = extent(1);
  // Centres of the low-resolution mask cells in input-frame pixels.
  const centres = Array.from({ length: low }, (_, j) => (j + 0.5) * 4);
  const column = g.floats(centres, [1, 1, low]);
  const row = g.floats(centres, [1, low, 1]);
  const asColumn = (v: string) => g.one('Unsqueeze', [v, g.int64s([1, 2])]); // [B] → [B,1,1]
  const inside = g.one('Min', [
    g.one('Sub', [column, asColumn(x.min)]),
    g.one('Sub', [asColumn(x.max), column]),
    g.one('Sub', [row, asColumn(y.min)]),
    g.one('Sub', [asColumn(y.max), row]),
  ]); // [B, low, low]: positive inside the rectangle
  // A zero term so the decoder consumes the image embeddings and labels, as the real one does.
  const dependencies = [
    ...FEATURE_LEVELS.map((_, level) => g.one('ReduceMean', [`image_embeddings.${level}`], { keepdims: 0 })),
    g.one('Cast', [g.one('ReduceSum', ['input_labels'], { keepdims: 0 })], { to: 1 }),
  ];
  const zero = g.one('Mul', [g.one('Sum', dependencies), g.floats([0], [])]);
  const rectangle = g.one('Add', [inside, zero]);
  const complement = g.one('Neg', [rectangle]);
  const empty = g.one('Sub', [rectangle, g.floats([1e4], [])]);
  const masks = [complement, rectangle, empty].map((m) => g.one('Unsqueeze', [m, g.int64s([1, 2])])); // [B,1,1,low,low]
  const stacked = g.one('Concat', masks, { axis: 2 });
  const maskShape = g.one('Concat', [batch, pointBatch, g.int64s([3, low, low])], { axis: 0 });
  g.one('Expand', [stacked, maskShape], {}, 'pred_masks');
  const scoreShape = g.one('Concat', [batch, pointBatch, g.int64s([3])], { axis: 0 });
  g.one('Expand', [g.floats(TINY_ASM_IOU_SCORES, [1, 1, 3]), scoreShape], {}, 'iou_scores');
  const objectShape = g.one('Concat', [batch, pointBatch, g.int64s([1])], { axis: 0 });
  g.one('Expand', [g.floats([10], [1, 1, 1]), objectShape], {}, 'object_score_logits');
  g.output('iou_scores', 'float', ['batch_size', 'point_batch_size', 3]);
  g.output('pred_masks', 'float', ['batch_size', 'point_batch_size', 3, low, low]);
  g.output('object_score_logits', 'float', ['batch_size', 'point_batch_size', 1]);
  return g;
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

export async function writeTinyAsm(dir: string, options: TinyAsmOptions = {}): Promise<TinyAsmResult> {
  const size = options.imageSize ?? 512;
  if (size % 16 !== 0 || size < 64) throw new RangeError(`tiny ASM image size must be a multiple of 16 and at least 64, got ${size}`);
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  await writeJson(path.join(dir, 'config.json'), {
    architectures: ['Sam2Model'],
    model_type: 'sam2',
    image_size: size,
    vision_config: { model_type: 'sam2_vision_model', num_feature_levels: 3, backbone_feature_sizes: FEATURE_LEVELS.map((l) => [size / l.stride, size / l.stride]) },
    prompt_encoder_config: { image_size: size, patch_size: 16 },
    mask_decoder_config: { num_multimask_outputs: 3 },
    medreasoner_tiny: 'A test fixture: its mask is the rectangle spanned by the prompts; it cannot segment anything.',
  });
  await writeJson(path.join(dir, 'preprocessor_config.json'), {
    image_processor_type: 'Sam2ImageProcessor',
    processor_class: 'Sam2Processor',
    do_resize: true,
    size: { height: size, width: size },
    mask_size: { height: size / 4, width: size / 4 },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_std: [0.229, 0.224, 0.225],
    do_convert_rgb: true,
  });
  const files = ['config.json', 'preprocessor_config.json'];
  for (const [name, graph] of [
    ['vision_encoder', visionEncoderGraph(size)],
    ['prompt_encoder_mask_decoder', decoderGraph(size)],
  ] as const) {
    const dataName = `${name}.onnx_data`;
    const { model, externalData } = graph.serialize({ externalDataFile: dataName });
    await writeFile(path.join(dir, 'onnx', `${name}.onnx`), model);
    files.push(`onnx/${name}.onnx`);
    if (externalData) {
      await writeFile(path.join(dir, 'onnx', dataName), externalData);
      files.push(`onnx/${dataName}`);
    }
  }
  return { dir, imageSize: size, files, iouScores: TINY_ASM_IOU_SCORES };
}
