// The CRM (MedReasoner, a Qwen2.5-VL-7B fine-tune) through @huggingface/transformers, which
// runs Qwen2.5-VL's three ONNX sessions over onnxruntime-node and computes the mRoPE
// positions in JS. Offline only: local folder, no remote lookups, no browser cache.
// Greedy decoding as the seed (do_sample false, max_new_tokens 1024; the folder's
// generation_config.json otherwise applies, as it does in Python transformers); every new
// piece of text is streamed to the caller; cancellation stops between two tokens.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  AutoProcessor,
  Qwen2_5_VLForConditionalGeneration,
  StoppingCriteria,
  TextStreamer,
  env,
  type PreTrainedModel,
  type Processor,
} from '@huggingface/transformers';
import { checkFiles } from '../models/file-check.ts';
import { findVariant, variantFiles, type ModelManifest } from '../models/manifest.ts';
import { signatureProblems } from '../models/signatures.ts';
import { writeCrmDump } from './crm-dump.ts';
import { crmInputs } from './crm-inputs.ts';
import { crmPicture, PreprocessorConfigError, qwenResizeLimits, type QwenPreprocessorConfig } from './crm-image.ts';
import { buildPrompt, readPromptFile, type PromptFile } from './crm-prompt.ts';
import type { ProviderName } from './execution-provider.ts';
import { ModelLoadError } from './medsam2-segmenter.ts';
import type { AuditSubject } from './remote/crm-audit.ts';
import type { QwenResizeLimits } from './qwen-image-resize.ts';

export const MAX_NEW_TOKENS = 1024;

export interface CrmImage {
  /** 8-bit grey, row by row. */
  grey: Uint8Array;
  width: number;
  height: number;
}

export interface CrmRunOptions {
  question: string;
  promptVariant?: string;
  maxNewTokens?: number;
  onText?: (text: string) => void;
  /** Polled between tokens; true stops generation (the result is marked cancelled). */
  isCancelled?: () => boolean;
  /** Write the picture, the templated text and the token ids here (crm-dump.ts). */
  dumpDir?: string;
  /** Which study/series/slice this is, for a server's audit log (never pixels). */
  subject?: AuditSubject;
}

export interface CrmRunResult {
  rawText: string;
  promptVariant: string;
  think: boolean;
  /** The image size the processor fed the model (what its coordinates refer to). */
  seen: { width: number; height: number };
  imageTokens: number;
  promptTokens: number;
  generatedTokens: number;
  /** The generated token ids (what parity tests compare with PyTorch's generate()); null from a server, whose stream carries text. */
  generatedIds: number[] | null;
  cancelled: boolean;
  /** Ended because max_new_tokens ran out rather than at <|im_end|>. */
  truncated: boolean;
  timings: { preprocess: number; prefill: number; decode: number; tokensPerSecond: number | null };
}

export interface CrmRunner {
  readonly id: string;
  readonly variant: string;
  /** 'server' when the CRM runs on a GPU server (remote/crm-remote.ts). */
  readonly provider: ProviderName | 'server';
  readonly label: string;
  run(image: CrmImage, options: CrmRunOptions): Promise<CrmRunResult>;
  warm(): Promise<void>;
  dispose(): Promise<void>;
}

class CancelCriteria extends StoppingCriteria {
  readonly isCancelled: () => boolean;
  constructor(isCancelled: () => boolean) {
    super();
    this.isCancelled = isCancelled;
  }
  override _call(inputIds: number[][]): boolean[] {
    return new Array(inputIds.length).fill(this.isCancelled());
  }
}

export interface LoadCrmOptions {
  dir: string;
  manifest: ModelManifest;
  variant: string;
  provider: ProviderName;
}

export async function loadCrm(options: LoadCrmOptions): Promise<CrmRunner> {
  const { dir, manifest, variant, provider } = options;
  const variantInfo = findVariant(manifest, variant);
  if (!variantInfo) throw new ModelLoadError(manifest.id, `model ${manifest.id} has no variant "${variant}"`);
  // A missing or short .onnx_data kills the process inside ONNX Runtime: check before loading.
  const problems = await checkFiles(dir, variantFiles(manifest, variant), { hash: false });
  if (problems.length > 0) {
    throw new ModelLoadError(manifest.id, `model ${manifest.id} (${variant}) in ${dir} cannot be loaded:\n${problems.map((p) => `  - ${p.message}`).join('\n')}\nReinstall it: medreasoner models install ${manifest.id} --from <folder>`);
  }
  const prompt: PromptFile = await readPromptFile(dir).catch((error: Error) => {
    throw new ModelLoadError(manifest.id, error.message);
  });
  const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as { text_config?: unknown; model_type?: string };
  const preprocessor = JSON.parse(await readFile(path.join(dir, 'preprocessor_config.json'), 'utf8')) as QwenPreprocessorConfig;
  // Older exports traced the vision tower at one grid and had the app squash every slice to
  // that square: MedReasoner never saw such images, so they are refused rather than run.
  if (preprocessor.medreasoner_fixed_size !== undefined && preprocessor.medreasoner_fixed_size !== null) {
    throw new ModelLoadError(
      manifest.id,
      `${dir} is an export whose vision encoder was traced at one image grid (preprocessor_config.json medreasoner_fixed_size ${preprocessor.medreasoner_fixed_size}): ` +
        'it would need every slice squashed to that square, which MedReasoner was not trained on. ' +
        'Re-export the model with the current native-models/export_medreasoner.py (vision encoder with a dynamic image grid) and reinstall it.',
    );
  }
  let limits: QwenResizeLimits;
  try {
    limits = qwenResizeLimits(preprocessor);
  } catch (error) {
    if (error instanceof PreprocessorConfigError) throw new ModelLoadError(manifest.id, `${dir}/preprocessor_config.json: ${error.message}`);
    throw error;
  }
  if (config.model_type !== 'qwen2_5_vl') throw new ModelLoadError(manifest.id, `${dir}/config.json: model_type is "${config.model_type}", expected "qwen2_5_vl"`);
  if (!config.text_config) throw new ModelLoadError(manifest.id, `${dir}/config.json has no nested text_config (transformers.js needs it; re-export with native-models/export_medreasoner.py)`);

  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  const absolute = path.resolve(dir);
  let processor: Processor;
  let model: PreTrainedModel;
  try {
    processor = await AutoProcessor.from_pretrained(absolute, { local_files_only: true });
    model = await Qwen2_5_VLForConditionalGeneration.from_pretrained(absolute, {
      local_files_only: true,
      device: provider,
      dtype: variantInfo.sessions as Record<string, 'fp32'>,
    });
  } catch (error) {
    throw new ModelLoadError(manifest.id, `transformers.js could not load ${dir}: ${(error as Error).message}`);
  }
  if (!processor.tokenizer) throw new ModelLoadError(manifest.id, `${dir}: the processor has no tokenizer (preprocessor_config.json needs processor_class)`);
  const sessions = (model as unknown as { sessions: Record<string, { inputNames: string[]; outputNames: string[] }> }).sessions;
  for (const [name, expected] of Object.entries(manifest.sessions)) {
    const session = sessions[name];
    if (!session) throw new ModelLoadError(manifest.id, `${dir}: session ${name} was not loaded`);
    const mismatch = signatureProblems(name, expected, session);
    if (mismatch.length > 0) throw new ModelLoadError(manifest.id, `${dir}: ${mismatch.join('; ')}`);
  }
  const label = `${manifest.displayName} (${variant}, ${provider.toUpperCase()})`;

  async function run(image: CrmImage, runOptions: CrmRunOptions): Promise<CrmRunResult> {
    const t0 = performance.now();
    const built = buildPrompt(prompt, runOptions.question, runOptions.promptVariant);
    const picture = crmPicture(image.grey, image.width, image.height, limits);
    const { text, inputs, grid, imageTokens, promptTokens } = await crmInputs(processor, built.text, picture);
    const t1 = performance.now();
    let firstToken: number | null = null;
    let lastToken = t1;
    let generated = 0;
    let rawText = '';
    const streamer = new TextStreamer(processor.tokenizer!, {
      skip_prompt: true,
      skip_special_tokens: true,
      callback_function: (piece: string) => {
        rawText += piece;
        if (piece !== '') runOptions.onText?.(piece);
      },
      token_callback_function: () => {
        const now = performance.now();
        if (firstToken === null) firstToken = now;
        lastToken = now;
        generated++;
      },
    });
    const maxNewTokens = runOptions.maxNewTokens ?? MAX_NEW_TOKENS;
    let cancelled = false;
    const isCancelled = () => {
      if (runOptions.isCancelled?.()) cancelled = true;
      return cancelled;
    };
    const output = (await model.generate({
      ...inputs,
      max_new_tokens: maxNewTokens,
      do_sample: false,
      streamer,
      stopping_criteria: [new CancelCriteria(isCancelled)],
    } as never)) as { slice(...ranges: unknown[]): unknown; dims: number[] };
    const t2 = performance.now();
    // The streamed pieces hold everything but a final partial word: decode the whole reply.
    const replyIds = output.slice(null, [promptTokens, null]);
    rawText = (processor.batch_decode(replyIds as never, { skip_special_tokens: true }) as string[])[0] ?? rawText;
    const allIds = (output as unknown as { tolist(): bigint[][] }).tolist()[0]!;
    const lastId = allIds.at(-1);
    if (runOptions.dumpDir !== undefined) {
      await writeCrmDump(runOptions.dumpDir, {
        rgb: picture.image.data,
        width: picture.width,
        height: picture.height,
        promptText: text,
        inputIds: (inputs.input_ids.tolist() as bigint[][])[0]!.map(Number),
        generatedIds: allIds.slice(promptTokens).map(Number),
        imageGridThw: grid,
        slice: { width: image.width, height: image.height },
        promptVariant: built.variant,
      });
    }
    const eosIds = [(model as unknown as { generation_config?: { eos_token_id?: number | number[] } }).generation_config?.eos_token_id].flat().filter((v) => v !== undefined).map((v) => BigInt(v as number));
    const truncated = !cancelled && generated >= maxNewTokens && !eosIds.includes(lastId!);
    const decodeSeconds = firstToken !== null && generated > 1 ? (lastToken - firstToken) / 1000 : null;
    return {
      rawText,
      promptVariant: built.variant,
      think: built.think,
      seen: { width: picture.width, height: picture.height },
      imageTokens,
      promptTokens,
      generatedTokens: generated,
      generatedIds: allIds.slice(promptTokens).map(Number),
      cancelled,
      truncated,
      timings: {
        preprocess: t1 - t0,
        prefill: (firstToken ?? t2) - t1,
        decode: t2 - (firstToken ?? t2),
        tokensPerSecond: decodeSeconds && decodeSeconds > 0 ? (generated - 1) / decodeSeconds : null,
      },
    };
  }

  return {
    id: manifest.id,
    variant,
    provider,
    label,
    run,
    async warm() {
      const size = 56;
      await run({ grey: new Uint8Array(size * size), width: size, height: size }, { question: 'warm-up', maxNewTokens: 1 });
    },
    async dispose() {
      await (model as unknown as { dispose(): Promise<unknown> }).dispose();
    },
  };
}
