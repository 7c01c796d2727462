// One streamed POST /chat/completions (OpenAI's server-sent events: `data: {chunk}` lines,
// blank-line separated, ending with `data: [DONE]`), with the failures a GPU server shows
// mapped to CrmServerError: HTTP status (401, 404, 429/503 + Retry-After, 5xx), a cut
// stream, a chunk that is not JSON, an error object mid-stream, silence beyond the timeout.
import { CrmServerError, networkFailure, parseRetryAfter } from './crm-server-error.ts';

export interface ChatStreamRequest {
  /** Base URL of the API (…/v1). */
  baseUrl: string;
  apiKey?: string;
  body: Record<string, unknown>;
  /** Longest wait for the response head and between two chunks. */
  timeoutMs: number;
  signal?: AbortSignal;
  onText?: (text: string) => void;
  /** What the server is called in messages. */
  where: string;
}

export interface ChatStreamResult {
  text: string;
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number } | null;
  /** The model id the server says answered. */
  model: string | null;
  /** Milliseconds from the request to the response head, and to the first text. */
  headMs: number;
  firstTextMs: number | null;
}

interface Chunk {
  model?: string;
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string; code?: unknown } | string;
}

/** A reply body's message: OpenAI's {error:{message}}, FastAPI's {detail}, or the text. */
export function errorDetail(text: string): string {
  try {
    const json = JSON.parse(text) as { error?: { message?: string } | string; detail?: unknown; message?: string };
    if (typeof json.error === 'string') return json.error;
    if (json.error?.message) return json.error.message;
    if (json.detail !== undefined) return typeof json.detail === 'string' ? json.detail : JSON.stringify(json.detail);
    if (json.message) return json.message;
  } catch {
    // not JSON: the text itself
  }
  return text.trim().slice(0, 500) || '(empty body)';
}

export function statusFailure(status: number, body: string, retryAfter: string | null, where: string, model: string): CrmServerError {
  const detail = errorDetail(body);
  const retryAfterS = parseRetryAfter(retryAfter);
  if (status === 401 || status === 403) {
    return new CrmServerError('auth', `${where} refused the API key (HTTP ${status}: ${detail}). Check the key in Models settings (CLI: MEDREASONER_CRM_API_KEY).`, { status });
  }
  if (status === 404 || (/model/i.test(detail) && (status === 400 || status === 422) && /not (found|exist|served)|unknown|pinned|does not/i.test(detail))) {
    return new CrmServerError('unknown-model', `${where} does not serve the model "${model}" (HTTP ${status}: ${detail}). Use the connection test to see what it offers.`, { status });
  }
  if (status === 429 || status === 503) {
    return new CrmServerError('busy', `${where} is busy (HTTP ${status}${retryAfterS !== null ? `, retry after ${Math.ceil(retryAfterS)} s` : ''}): ${detail}`, { status, retryAfterS });
  }
  return new CrmServerError('server', `${where} answered HTTP ${status}: ${detail}`, { status, retryAfterS });
}

export async function streamChat(request: ChatStreamRequest): Promise<ChatStreamResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, request.timeoutMs);
  };
  const onAbort = () => controller.abort();
  request.signal?.addEventListener('abort', onAbort, { once: true });
  if (request.signal?.aborted) controller.abort();
  const model = String(request.body.model ?? '');
  let text = '';
  const interrupted = (error: unknown): CrmServerError => {
    if (request.signal?.aborted) return new CrmServerError('cancelled', 'cancelled', { partialText: text });
    if (timedOut) return new CrmServerError('timeout', `${request.where} sent nothing for ${Math.round(request.timeoutMs / 1000)} s${text === '' ? '' : ` after ${text.length} characters of the reply`}`, { partialText: text });
    return networkFailure(error, request.where, text);
  };
  arm();
  try {
    let response: Response;
    try {
      response = await fetch(`${request.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(request.apiKey ? { authorization: `Bearer ${request.apiKey}` } : {}),
        },
        body: JSON.stringify({ ...request.body, stream: true }),
        signal: controller.signal,
        // A redirect could carry the slice and the key to another origin.
        redirect: 'error',
      });
    } catch (error) {
      throw interrupted(error);
    }
    const headMs = performance.now() - started;
    if (!response.ok) {
      const body = await response.text().catch(() => '');
      throw statusFailure(response.status, body, response.headers.get('retry-after'), request.where, model);
    }
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('text/event-stream')) {
      const body = await response.text().catch(() => '');
      throw new CrmServerError('malformed', `${request.where} did not stream (content-type "${type}"): ${body.slice(0, 200)}`);
    }
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let finishReason: string | null = null;
    let usage: ChatStreamResult['usage'] = null;
    let answeredBy: string | null = null;
    let done = false;
    let firstTextMs: number | null = null;
    const handle = (data: string) => {
      if (data === '[DONE]') {
        done = true;
        return;
      }
      let chunk: Chunk;
      try {
        chunk = JSON.parse(data) as Chunk;
      } catch {
        throw new CrmServerError('malformed', `${request.where} sent a chunk that is not JSON: ${data.slice(0, 200)}`, { partialText: text });
      }
      if (chunk.error !== undefined) {
        const message = typeof chunk.error === 'string' ? chunk.error : (chunk.error.message ?? JSON.stringify(chunk.error));
        throw new CrmServerError('server', `${request.where} reported an error mid-answer: ${message}`, { partialText: text });
      }
      if (typeof chunk !== 'object' || chunk === null || !Array.isArray(chunk.choices)) {
        throw new CrmServerError('malformed', `${request.where} sent a chunk that is not a chat completion chunk: ${data.slice(0, 200)}`, { partialText: text });
      }
      if (chunk.model) answeredBy = chunk.model;
      if (chunk.usage && typeof chunk.usage.completion_tokens === 'number') usage = { promptTokens: chunk.usage.prompt_tokens ?? 0, completionTokens: chunk.usage.completion_tokens };
      const choice = chunk.choices[0];
      if (!choice) return;
      const piece = choice.delta?.content ?? '';
      if (piece) {
        if (firstTextMs === null) firstTextMs = performance.now() - started;
        text += piece;
        request.onText?.(piece);
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    };
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        throw interrupted(error);
      }
      if (next.done) break;
      arm();
      buffer += next.value;
      // Events end at a blank line; \r\n is allowed by the SSE grammar.
      for (;;) {
        const match = /\r?\n\r?\n/.exec(buffer);
        if (!match) break;
        const event = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        const data = event
          .split(/\r?\n/)
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).replace(/^ /, ''))
          .join('\n');
        if (data !== '') handle(data);
        if (done) break;
      }
      if (done) break;
    }
    if (!done && buffer.trim().startsWith('data:')) handle(buffer.trim().slice(5).trim());
    if (!done && finishReason === null) {
      throw new CrmServerError('stream-cut', `${request.where} closed the stream before the answer was complete (${text.length} characters received)`, { partialText: text });
    }
    await reader.cancel().catch(() => {});
    return { text, finishReason, usage, model: answeredBy, headMs, firstTextMs };
  } catch (error) {
    if (error instanceof CrmServerError) throw error;
    throw interrupted(error);
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
  }
}
