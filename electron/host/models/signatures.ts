// The tensor signatures the app expects of each ONNX session (shared/reference/onnx-layout.md).
// Written into manifests, and compared with a session's real inputs and outputs when it
// loads, so a mismatched export fails with a sentence instead of deep inside generation.
import type { SessionSignature, TensorSpec } from './manifest.ts';

export interface QwenDimensions {
  layers: number;
  hidden: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  /**
   * The decoder takes num_logits_to_keep (int64 scalar): transformers.js then asks for the last
   * position's logits only, instead of [sequence, 152064] floats at prefill.
   */
  numLogitsToKeep: boolean;
}

/** Qwen2.5-VL-7B (MedReasoner-7B's base): 28 layers, hidden 3584, 4 KV heads of 128. */
export const QWEN25_VL_7B: QwenDimensions = { layers: 28, hidden: 3584, kvHeads: 4, headDim: 128, vocab: 152064, numLogitsToKeep: true };

export function qwen25vlSignatures(d: QwenDimensions): Record<string, SessionSignature> {
  const past: TensorSpec[] = [];
  const present: TensorSpec[] = [];
  for (let i = 0; i < d.layers; i++) {
    for (const kind of ['key', 'value']) {
      past.push({ name: `past_key_values.${i}.${kind}`, type: 'float', dims: ['batch_size', d.kvHeads, 'past_sequence_length', d.headDim] });
      present.push({ name: `present.${i}.${kind}`, type: 'float', dims: ['batch_size', d.kvHeads, 'total_sequence_length', d.headDim] });
    }
  }
  return {
    embed_tokens: {
      inputs: [{ name: 'input_ids', type: 'int64', dims: ['batch_size', 'sequence_length'] }],
      outputs: [{ name: 'inputs_embeds', type: 'float', dims: ['batch_size', 'sequence_length', d.hidden] }],
    },
    // Any image grid (export_medreasoner.py's dynamic-grid encoder): one image per call, float32
    // pixel_values whatever the variant, num_patches/4 features of the decoder's width.
    vision_encoder: {
      inputs: [
        { name: 'pixel_values', type: 'float', dims: ['num_patches', 1176] },
        { name: 'image_grid_thw', type: 'int64', dims: ['num_images', 3] },
      ],
      outputs: [{ name: 'image_features', type: 'float', dims: ['num_image_tokens', d.hidden] }],
    },
    decoder_model_merged: {
      inputs: [
        { name: 'inputs_embeds', type: 'float', dims: ['batch_size', 'sequence_length', d.hidden] },
        { name: 'attention_mask', type: 'int64', dims: ['batch_size', 'total_sequence_length'] },
        { name: 'position_ids', type: 'int64', dims: [3, 'batch_size', 'sequence_length'] },
        ...past,
        ...(d.numLogitsToKeep ? [{ name: 'num_logits_to_keep', type: 'int64' as const, dims: [] }] : []),
      ],
      outputs: [{ name: 'logits', type: 'float', dims: ['batch_size', 'sequence_length', d.vocab] }, ...present],
    },
  };
}

export function sam2Signatures(size: number): Record<string, SessionSignature> {
  const embeddings: TensorSpec[] = [
    { name: 'image_embeddings.0', type: 'float', dims: ['batch_size', 32, size / 4, size / 4] },
    { name: 'image_embeddings.1', type: 'float', dims: ['batch_size', 64, size / 8, size / 8] },
    { name: 'image_embeddings.2', type: 'float', dims: ['batch_size', 256, size / 16, size / 16] },
  ];
  return {
    // Any image grid (export_medreasoner.py's dynamic-grid encoder): one image per call, float32
    // pixel_values whatever the variant, num_patches/4 features of the decoder's width.
    vision_encoder: {
      inputs: [{ name: 'pixel_values', type: 'float', dims: ['batch_size', 3, size, size] }],
      outputs: embeddings,
    },
    prompt_encoder_mask_decoder: {
      inputs: [
        { name: 'input_points', type: 'float', dims: ['batch_size', 'point_batch_size', 'num_points', 2] },
        { name: 'input_labels', type: 'int64', dims: ['batch_size', 'point_batch_size', 'num_points'] },
        { name: 'input_boxes', type: 'float', dims: ['batch_size', 'num_boxes', 4] },
        ...embeddings,
      ],
      outputs: [
        { name: 'iou_scores', type: 'float', dims: ['batch_size', 'point_batch_size', 3] },
        { name: 'pred_masks', type: 'float', dims: ['batch_size', 'point_batch_size', 3, size / 4, size / 4] },
        { name: 'object_score_logits', type: 'float', dims: ['batch_size', 'point_batch_size', 1] },
      ],
    },
  };
}

/**
 * Compares a session's input and output names with the expected signature (names are what
 * the runtimes feed by; shapes are checked where a runtime reports them). Returns problems in words.
 */
export function signatureProblems(
  session: string,
  expected: SessionSignature,
  actual: { inputNames: readonly string[]; outputNames: readonly string[] },
): string[] {
  const problems: string[] = [];
  const missingInputs = expected.inputs.map((t) => t.name).filter((n) => !actual.inputNames.includes(n));
  const extraInputs = actual.inputNames.filter((n) => !expected.inputs.some((t) => t.name === n));
  const missingOutputs = expected.outputs.map((t) => t.name).filter((n) => !actual.outputNames.includes(n));
  if (missingInputs.length > 0) problems.push(`${session} lacks input(s) ${missingInputs.join(', ')}`);
  if (extraInputs.length > 0) problems.push(`${session} has unexpected input(s) ${extraInputs.join(', ')}`);
  if (missingOutputs.length > 0) problems.push(`${session} lacks output(s) ${missingOutputs.join(', ')}`);
  return problems;
}
