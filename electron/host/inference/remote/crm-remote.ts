// The CRM on a GPU server, behind the same CrmRunner interface as the local ONNX one. The
// request is the seed's (eval/vllm_eval.py): the system turn, then one user turn holding the
// image as a PNG data URL and the model package's exact prompt text; greedy (temperature 0)
// with the app's token limit. The picture is sent already at the size the server's processor
// would choose (qwen-image-resize.ts), so the processor leaves it alone and the model's
// coordinates are in a size the app knows. Tokens stream in by SSE; Cancel aborts the HTTP
// request; at most maxInFlight requests are open at once.
import { encode } from 'fast-png';
import { crmPicture } from '../crm-image.ts';
import { buildPrompt, type PromptFile } from '../crm-prompt.ts';
import { MAX_NEW_TOKENS, type CrmImage, type CrmRunOptions, type CrmRunResult, type CrmRunner } from '../crm-runner.ts';
import type { QwenResizeLimits } from '../qwen-image-resize.ts';
import type { CrmAuditLog } from './crm-audit.ts';
import { serverOrigin, type CrmServerConfig } from './crm-server-config.ts';
import { CrmServerError } from './crm-server-error.ts';
import { streamChat, type ChatStreamResult } from './openai-chat-stream.ts';
import { Semaphore } from './semaphore.ts';

/** qwen_vl_utils.fetch_image's defaults, which the seed's evaluation used (and Qwen2.5-VL's processor). */
export const SEED_FETCH_LIMITS: QwenResizeLimits = { factor: 28, minPixels: 4 * 28 * 28, maxPixels: 16384 * 28 * 28 };

/** The system turn vllm_eval.py sends (Qwen2.5-VL's chat template writes the same one when none is given). */
export const SEED_SYSTEM_PROMPT = 'You are a helpful assistant.';

/** A busy server (429/503) is waited for at most this long per retry before the ask fails. */
const MAX_RETRY_WAIT_S = 30;

export interface RemoteCrmOptions {
  config: CrmServerConfig;
  prompt: PromptFile;
  limits?: QwenResizeLimits;
  audit?: CrmAuditLog;
  /** Retries of a request the server refused as busy before any token came. */
  busyRetries?: number;
}

export interface RemoteCrmRunner extends CrmRunner {
  readonly server: { name: string; origin: string; model: string };
}

export function seedChatBody(model: string, promptText: string, png: Uint8Array, maxTokens: number): Record<string, unknown> {
  return {
    model,
    messages: [
      { role: 'system', content: SEED_SYSTEM_PROMPT },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: `data:image/png;base64,${Buffer.from(png).toString('base64')}` } },
          { type: 'text', text: promptText },
        ],
      },
    ],
    temperature: 0,
    max_tokens: maxTokens,
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

export function createRemoteCrm(options: RemoteCrmOptions): RemoteCrmRunner {
  const { config, prompt } = options;
  const limits = options.limits ?? SEED_FETCH_LIMITS;
  const origin = serverOrigin(config);
  const where = `${config.name} (${origin})`;
  const slots = new Semaphore(config.maxInFlight);
  const busyRetries = options.busyRetries ?? 2;

  async function run(image: CrmImage, runOptions: CrmRunOptions): Promise<CrmRunResult> {
    const t0 = performance.now();
    const built = buildPrompt(prompt, runOptions.question, runOptions.promptVariant);
    const picture = crmPicture(image.grey, image.width, image.height, limits);
    const png = encode({ width: picture.width, height: picture.height, data: new Uint8Array(picture.image.data.buffer, picture.image.data.byteOffset, picture.image.data.length), depth: 8, channels: 3 });
    const maxNewTokens = runOptions.maxNewTokens ?? MAX_NEW_TOKENS;
    const body = seedChatBody(config.model, built.text, png, maxNewTokens);
    const imageTokens = (picture.width / limits.factor) * (picture.height / limits.factor);
    const controller = new AbortController();
    // isCancelled is a poll (the worker's shared-memory flag): turn it into an abort.
    const poll = setInterval(() => {
      if (runOptions.isCancelled?.()) controller.abort();
    }, 25);
    const t1 = performance.now();
    let reply: ChatStreamResult | null = null;
    let failure: CrmServerError | null = null;
    let chunks = 0;
    const release = await slots.acquire(controller.signal);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          reply = await streamChat({
            baseUrl: config.baseUrl,
            ...(config.apiKey ? { apiKey: config.apiKey } : {}),
            body,
            timeoutMs: config.timeoutS * 1000,
            signal: controller.signal,
            where,
            onText: (text) => {
              chunks++;
              runOptions.onText?.(text);
            },
          });
          break;
        } catch (error) {
          const serverError = error instanceof CrmServerError ? error : new CrmServerError('malformed', `${where}: ${(error as Error).message}`);
          const wait = serverError.retryAfterS ?? 1 + attempt;
          if (serverError.kind === 'busy' && serverError.partialText === '' && attempt < busyRetries && wait <= MAX_RETRY_WAIT_S) {
            await sleep(wait * 1000, controller.signal);
            if (!controller.signal.aborted) continue;
          }
          failure = serverError;
          break;
        }
      }
    } finally {
      release();
      clearInterval(poll);
    }
    const t2 = performance.now();
    const cancelled = failure?.kind === 'cancelled' || (failure === null && controller.signal.aborted);
    await options.audit
      ?.record({
        time: new Date().toISOString(),
        server: config.name,
        origin,
        model: config.model,
        ...runOptions.subject,
        outcome: cancelled ? 'cancelled' : (failure?.kind ?? 'ok'),
        ms: Math.round(t2 - t1),
        imageWidth: picture.width,
        imageHeight: picture.height,
        completionTokens: reply?.usage?.completionTokens ?? (reply ? chunks : null),
        ...(failure?.status ? { status: failure.status } : {}),
      })
      .catch(() => {});
    if (failure && !cancelled) throw failure;
    const rawText = reply?.text ?? failure?.partialText ?? '';
    const generated = reply?.usage?.completionTokens ?? chunks;
    const firstText = reply?.firstTextMs ?? null;
    const decodeMs = firstText !== null ? t2 - (t1 + firstText) : 0;
    return {
      rawText,
      promptVariant: built.variant,
      think: built.think,
      seen: { width: picture.width, height: picture.height },
      imageTokens,
      promptTokens: reply?.usage?.promptTokens ?? 0,
      generatedTokens: generated,
      // The server returns text; its token ids are not part of the OpenAI stream.
      generatedIds: null,
      cancelled,
      truncated: reply?.finishReason === 'length',
      timings: {
        preprocess: t1 - t0,
        prefill: firstText ?? t2 - t1,
        decode: decodeMs,
        tokensPerSecond: decodeMs > 0 && generated > 1 ? (generated - 1) / (decodeMs / 1000) : null,
      },
    };
  }

  return {
    id: config.model,
    variant: 'server',
    provider: 'server',
    label: `${config.model} on ${where}`,
    server: { name: config.name, origin, model: config.model },
    run,
    async warm() {},
    async dispose() {},
  };
}
