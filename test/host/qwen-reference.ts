// The Python side of the CRM parity tests: the seed's own code (qwen_vl_utils,
// transformers' Qwen2.5-VL processor) run in the project's Python environment, as judge.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { projectPython } from './real-parts.ts';

const run = promisify(execFile);

/** Runs `script` with `input` as JSON on stdin; its stdout's last line is JSON. */
export async function runProjectPython<T>(script: string, input: unknown): Promise<T> {
  const python = projectPython();
  const child = run(python, ['-c', script], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8', env: { ...process.env, TRANSFORMERS_OFFLINE: '1', HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' } });
  child.child.stdin!.end(JSON.stringify(input));
  const { stdout } = await child;
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/** A preprocessor_config.json as Qwen2.5-VL-7B-Instruct (and MedReasoner, its fine-tune) ships it. */
export const QWEN25_VL_PREPROCESSOR = {
  min_pixels: 3136,
  max_pixels: 12845056,
  patch_size: 14,
  temporal_patch_size: 2,
  merge_size: 2,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
  image_processor_type: 'Qwen2VLImageProcessor',
  processor_class: 'Qwen2_5_VLProcessor',
  do_convert_rgb: true,
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  resample: 3,
  rescale_factor: 0.00392156862745098,
};
