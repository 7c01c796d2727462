// The tiny CRM: a Qwen2.5-VL model folder with the real export's file names, configs and
// tensor signatures (see shared/reference/onnx-layout.md), small enough to generate in a
// test. Its decoder does not compute language: it counts its own decode steps through
// the KV cache and emits a one-hot logit for the k-th token of a scripted answer, so
// greedy generation deterministically writes that answer and then <|im_end|>.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { GraphBuilder, seededFloats } from './onnx-graph.ts';
import { buildTinyTokenizer } from './tiny-tokenizer.ts';

export const TINY_HIDDEN = 16;
export const TINY_LAYERS = 2;
export const TINY_KV_HEADS = 1;
export const TINY_HEAD_DIM = 8;
const PATCH_FEATURES = 3 * 2 * 14 * 14; // channels × temporal patch × patch × patch = 1176
const MERGE = 4; // spatial merge 2 × 2

/** The answer the default tiny CRM writes (coordinates in the processor's resized image). */
export const TINY_DEFAULT_ANSWER =
  "<think>The question asks about the large organ in the right upper abdomen; the homogeneous soft-tissue region on the image's left side matches the liver.</think>" +
  "<answer>{'bbox': [40, 60, 120, 150], 'points_1': [70, 100], 'points_2': [95, 120]}</answer>";

/** A stand-in for MedReasoner's prompt: same slots and fill rules, deliberately not its text. */
export const TINY_PROMPT = {
  format: 'medreasoner-prompt',
  version: 1,
  source: 'tiny test model: a placeholder with the same slots and fill rules as eval/infer.py prepare_message, NOT the trained prompt',
  fill: 'python-format',
  answerExample: "{'bbox': [xmin, ymin, xmax, ymax], 'points_1': [x1, y1], 'points_2': [x2, y2]}",
  default: 'think',
  variants: {
    think:
      '<image>\nTiny test prompt (not the MedReasoner prompt).\nQuestion: {Question}\n\n' +
      'Output Formats:\n- <think>...</think> then <answer>...</answer> with "bbox", "points_1", "points_2".\n\n' +
      'Example Output:\n<think> thinking process here </think><answer>{Answer}</answer>',
    no_think: '<image>\nTiny test prompt: answer {Question} with bbox and points.\n\nExample Output:\n<answer>{Answer}</answer>',
  },
};

/** Text the tokenizer's merges are learned from: fixed, so every tiny CRM shares one tokenizer. */
const TOKENIZER_CORPUS = [
  TINY_DEFAULT_ANSWER,
  TINY_PROMPT.variants.think,
  "<think> </think><answer>{'bbox': [0, 0, 0, 0], 'points_1': [0, 0], 'points_2': [0, 0]}</answer>",
  'the liver spleen kidney lung lesion nodule cyst aorta spine region image question answer target',
].join('\n');

export interface TinyCrmOptions {
  /** What the decoder writes before <|im_end|> (default TINY_DEFAULT_ANSWER). */
  answer?: string;
  /** Processor pixel limits (smart_resize); the real Qwen2.5-VL defaults unless set. */
  minPixels?: number;
  maxPixels?: number;
  /**
   * Mimic an old export whose vision tower was traced at one grid (its preprocessor_config.json
   * carries medreasoner_fixed_size), which the app now refuses. The tiny vision encoder itself
   * takes any grid: it merges each 2×2 group of patches, num_patches/4 image tokens.
   */
  legacyFixedSize?: number;
}

export interface TinyCrmResult {
  dir: string;
  answer: string;
  answerTokenIds: number[];
  vocabSize: number;
  files: string[];
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

function embedTokensGraph(vocab: number): GraphBuilder {
  const g = new GraphBuilder('embed_tokens');
  g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const table = g.floats(seededFloats(vocab * TINY_HIDDEN, 11, 1), [vocab, TINY_HIDDEN], { name: 'embed_tokens.weight' });
  g.one('Gather', [table, 'input_ids'], { axis: 0 }, 'inputs_embeds');
  g.output('inputs_embeds', 'float', ['batch_size', 'sequence_length', TINY_HIDDEN]);
  return g;
}

function visionEncoderGraph(): GraphBuilder {
  const g = new GraphBuilder('vision_encoder');
  g.input('pixel_values', 'float', ['num_patches', PATCH_FEATURES]);
  g.input('image_grid_thw', 'int64', ['num_images', 3]);
  // Four neighbouring patches merge into one image token, as in Qwen2.5-VL's merger.
  const merged = g.one('Reshape', ['pixel_values', g.int64s([-1, PATCH_FEATURES * MERGE])]);
  const weight = g.floats(seededFloats(PATCH_FEATURES * MERGE * TINY_HIDDEN, 12, 0.02), [PATCH_FEATURES * MERGE, TINY_HIDDEN], {
    name: 'merger.weight',
  });
  const projected = g.one('MatMul', [merged, weight]);
  // Consumes image_grid_thw (as the real encoder does) without changing the features.
  const gridSum = g.one('Cast', [g.one('ReduceSum', ['image_grid_thw'], { keepdims: 0 })], { to: 1 });
  const zero = g.one('Mul', [gridSum, g.floats([0], [])]);
  g.one('Add', [projected, zero], {}, 'image_features');
  g.output('image_features', 'float', ['num_image_tokens', TINY_HIDDEN]);
  return g;
}

function decoderGraph(vocab: number, script: number[], eosId: number): GraphBuilder {
  const g = new GraphBuilder('decoder_model_merged');
  g.input('inputs_embeds', 'float', ['batch_size', 'sequence_length', TINY_HIDDEN]);
  g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  g.input('position_ids', 'int64', [3, 'batch_size', 'sequence_length']);
  for (let i = 0; i < TINY_LAYERS; i++) {
    for (const kind of ['key', 'value']) {
      g.input(`past_key_values.${i}.${kind}`, 'float', ['batch_size', TINY_KV_HEADS, 'past_sequence_length', TINY_HEAD_DIM]);
    }
  }
  const slice = (x: string, start: number, end: number, axis: number) =>
    g.one('Slice', [x, g.int64s([start]), g.int64s([end]), g.int64s([axis])]);

  const embedShape = g.one('Shape', ['inputs_embeds']);
  const batch = slice(embedShape, 0, 1, 0);
  const sequence = slice(embedShape, 1, 2, 0);
  const pastLength = slice(g.one('Shape', ['past_key_values.0.key']), 2, 3, 0);
  // Channel 0 of every cached key marks the prompt's positions (written only when the
  // cache was empty): the number of positions after them is the decode step.
  const isPrefill = g.one('Cast', [g.one('Equal', [pastLength, g.int64s([0])])], { to: 1 });
  const flagShape = g.one('Concat', [batch, g.int64s([1]), sequence, g.int64s([1])], { axis: 0 });
  const flag = g.one('Expand', [isPrefill, flagShape]);
  const features = g.one('Unsqueeze', [slice('inputs_embeds', 0, TINY_HEAD_DIM - 1, 2), g.int64s([1])]);
  const newEntries = g.one('Concat', [flag, features], { axis: 3 });
  for (let i = 0; i < TINY_LAYERS; i++) {
    for (const kind of ['key', 'value']) {
      g.one('Concat', [`past_key_values.${i}.${kind}`, newEntries], { axis: 2 }, `present.${i}.${kind}`);
      g.output(`present.${i}.${kind}`, 'float', ['batch_size', TINY_KV_HEADS, 'total_sequence_length', TINY_HEAD_DIM]);
    }
  }
  const promptLength = g.one('ReduceSum', [slice('present.0.key', 0, 1, 3), g.int64s([1, 2, 3])], { keepdims: 0 });
  const totalLength = g.one('Cast', [slice(g.one('Shape', ['present.0.key']), 2, 3, 0)], { to: 1 });
  const step = g.one('Cast', [g.one('Sub', [totalLength, promptLength])], { to: 7 });
  const clamped = g.one('Max', [g.one('Min', [step, g.int64s([script.length])]), g.int64s([0])]);

  // Row k: a one-hot logit on the script's k-th token; the last row repeats <|im_end|>.
  const rows = new Float32Array((script.length + 1) * vocab);
  [...script, eosId].forEach((token, k) => {
    rows[k * vocab + token] = 10;
  });
  const table = g.floats(rows, [script.length + 1, vocab], { name: 'script_logits', external: true });
  const chosen = g.one('Unsqueeze', [g.one('Gather', [table, clamped], { axis: 0 }), g.int64s([1])]);
  const logitsShape = g.one('Concat', [batch, sequence, g.int64s([vocab])], { axis: 0 });
  // attention_mask and position_ids are consumed (a zero term) so the session declares them.
  const maskSum = g.one('Cast', [g.one('ReduceSum', ['attention_mask'], { keepdims: 0 })], { to: 1 });
  const positionSum = g.one('Cast', [g.one('ReduceSum', ['position_ids'], { keepdims: 0 })], { to: 1 });
  const zero = g.one('Mul', [g.one('Add', [maskSum, positionSum]), g.floats([0], [])]);
  g.one('Add', [g.one('Expand', [chosen, logitsShape]), zero], {}, 'logits');
  g.output('logits', 'float', ['batch_size', 'sequence_length', vocab]);
  return g;
}

async function writeGraph(dir: string, baseName: string, graph: GraphBuilder): Promise<string[]> {
  const onnxDir = path.join(dir, 'onnx');
  const dataName = `${baseName}.onnx_data`;
  const { model, externalData } = graph.serialize({ externalDataFile: dataName });
  await writeFile(path.join(onnxDir, `${baseName}.onnx`), model);
  const written = [`onnx/${baseName}.onnx`];
  if (externalData) {
    await writeFile(path.join(onnxDir, dataName), externalData);
    written.push(`onnx/${dataName}`);
  }
  return written;
}

export async function writeTinyCrm(dir: string, options: TinyCrmOptions = {}): Promise<TinyCrmResult> {
  const answer = options.answer ?? TINY_DEFAULT_ANSWER;
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  const tokenizerFiles = buildTinyTokenizer(TOKENIZER_CORPUS);
  const { vocabSize, specialIds } = tokenizerFiles;
  const tokenizer = new Tokenizer(tokenizerFiles.tokenizerJson, tokenizerFiles.tokenizerConfigJson);
  const answerTokenIds = tokenizer.encode(answer, { add_special_tokens: false }).ids;
  const eos = specialIds['<|im_end|>'];
  const endOfText = specialIds['<|endoftext|>'];

  const textConfig = {
    model_type: 'qwen2_5_vl_text',
    hidden_size: TINY_HIDDEN,
    intermediate_size: TINY_HIDDEN * 2,
    num_hidden_layers: TINY_LAYERS,
    num_attention_heads: 2,
    num_key_value_heads: TINY_KV_HEADS,
    head_dim: TINY_HEAD_DIM,
    vocab_size: vocabSize,
    max_position_embeddings: 32768,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    rope_scaling: { type: 'mrope', mrope_section: [1, 1, 2] },
    bos_token_id: endOfText,
    eos_token_id: eos,
    torch_dtype: 'float32',
  };
  const config = {
    architectures: ['Qwen2_5_VLForConditionalGeneration'],
    model_type: 'qwen2_5_vl',
    image_token_id: specialIds['<|image_pad|>'],
    video_token_id: specialIds['<|video_pad|>'],
    vision_start_token_id: specialIds['<|vision_start|>'],
    vision_end_token_id: specialIds['<|vision_end|>'],
    vision_token_id: specialIds['<|vision_pad|>'],
    bos_token_id: endOfText,
    eos_token_id: eos,
    text_config: textConfig,
    vision_config: {
      model_type: 'qwen2_5_vl',
      depth: 1,
      hidden_size: TINY_HIDDEN,
      out_hidden_size: TINY_HIDDEN,
      in_chans: 3,
      patch_size: 14,
      spatial_merge_size: 2,
      temporal_patch_size: 2,
      window_size: 112,
    },
    'transformers.js_config': { use_external_data_format: { 'decoder_model_merged.onnx': 1 } },
    medreasoner_tiny: 'A test fixture: its decoder replays a scripted answer; it has no language or vision ability.',
  };
  // Mirrors the shape of Qwen2.5-VL's own generation_config.json (sampling on): the app
  // must switch sampling off itself, as the seed does with do_sample=False.
  const generationConfig = {
    bos_token_id: endOfText,
    pad_token_id: endOfText,
    eos_token_id: [eos, endOfText],
    do_sample: true,
    repetition_penalty: 1.05,
    temperature: 0.1,
    top_p: 0.001,
    top_k: 1,
  };
  const preprocessorConfig = {
    processor_class: 'Qwen2_5_VLProcessor',
    image_processor_type: 'Qwen2VLImageProcessor',
    do_convert_rgb: true,
    do_resize: true,
    resample: 3,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_std: [0.26862954, 0.26130258, 0.27577711],
    min_pixels: options.legacyFixedSize ? options.legacyFixedSize ** 2 : (options.minPixels ?? 56 * 56),
    max_pixels: options.legacyFixedSize ? options.legacyFixedSize ** 2 : (options.maxPixels ?? 28 * 28 * 16384),
    ...(options.legacyFixedSize ? { medreasoner_fixed_size: options.legacyFixedSize } : {}),
    patch_size: 14,
    temporal_patch_size: 2,
    merge_size: 2,
  };

  await writeJson(path.join(dir, 'config.json'), config);
  await writeJson(path.join(dir, 'generation_config.json'), generationConfig);
  await writeJson(path.join(dir, 'preprocessor_config.json'), preprocessorConfig);
  await writeJson(path.join(dir, 'tokenizer.json'), tokenizerFiles.tokenizerJson);
  await writeJson(path.join(dir, 'tokenizer_config.json'), tokenizerFiles.tokenizerConfigJson);
  await writeJson(path.join(dir, 'prompt.json'), TINY_PROMPT);
  const files = ['config.json', 'generation_config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'prompt.json'];
  files.push(...(await writeGraph(dir, 'embed_tokens', embedTokensGraph(vocabSize))));
  files.push(...(await writeGraph(dir, 'vision_encoder', visionEncoderGraph())));
  files.push(...(await writeGraph(dir, 'decoder_model_merged', decoderGraph(vocabSize, answerTokenIds, eos))));
  return { dir, answer, answerTokenIds, vocabSize, files };
}
