// The connection test of Models settings: what the server offers (GET /models) and whether
// it answers for the configured model with this key (a one-token text request: no image,
// no patient data). Each part reports separately, so "reachable, key refused" and
// "reachable, serves other models" are told apart.
import type { CrmServerConfig } from './crm-server-config.ts';
import { serverOrigin } from './crm-server-config.ts';
import { CrmServerError, networkFailure } from './crm-server-error.ts';
import { errorDetail, statusFailure, streamChat } from './openai-chat-stream.ts';

export interface ServerProbe {
  ok: boolean;
  origin: string;
  /** Model ids the server lists; null when it does not list (transformers serve lists only its hub cache). */
  models: string[] | null;
  modelsNote: string | null;
  /** Whether the configured model answered a one-token request. */
  modelAnswers: boolean;
  /** The server's own name for the model that answered. */
  answeredAs: string | null;
  failure: { kind: CrmServerError['kind']; message: string } | null;
  ms: number;
}

export async function probeServer(config: CrmServerConfig, signal?: AbortSignal): Promise<ServerProbe> {
  const started = performance.now();
  const origin = serverOrigin(config);
  const where = `${config.name} (${origin})`;
  const headers = config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : undefined;
  let models: string[] | null = null;
  let modelsNote: string | null = null;
  try {
    const response = await fetch(`${config.baseUrl}/models`, { ...(headers ? { headers } : {}), redirect: 'error', signal: signal ?? AbortSignal.timeout(config.timeoutS * 1000) });
    const body = await response.text();
    if (response.ok) {
      const data = (JSON.parse(body) as { data?: { id?: string }[] }).data;
      models = Array.isArray(data) ? data.map((m) => String(m.id)) : null;
      if (models === null) modelsNote = 'GET /models did not return a model list';
    } else if (response.status === 401 || response.status === 403) {
      const failure = statusFailure(response.status, body, null, where, config.model);
      return { ok: false, origin, models: null, modelsNote: null, modelAnswers: false, answeredAs: null, failure: { kind: failure.kind, message: failure.message }, ms: performance.now() - started };
    } else modelsNote = `GET /models answered HTTP ${response.status} (${errorDetail(body).slice(0, 200)})`;
  } catch (error) {
    if (error instanceof SyntaxError) modelsNote = 'GET /models did not return JSON';
    else {
      const failure = networkFailure(error, where);
      return { ok: false, origin, models: null, modelsNote: null, modelAnswers: false, answeredAs: null, failure: { kind: failure.kind, message: failure.message }, ms: performance.now() - started };
    }
  }
  try {
    const reply = await streamChat({
      baseUrl: config.baseUrl,
      ...(config.apiKey ? { apiKey: config.apiKey } : {}),
      body: { model: config.model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1, temperature: 0 },
      timeoutMs: config.timeoutS * 1000,
      where,
      ...(signal ? { signal } : {}),
    });
    return { ok: true, origin, models, modelsNote, modelAnswers: true, answeredAs: reply.model, failure: null, ms: performance.now() - started };
  } catch (error) {
    const failure = error instanceof CrmServerError ? error : networkFailure(error, where);
    const message = failure.kind === 'unknown-model' && models !== null ? `${failure.message} It lists: ${models.join(', ') || '(nothing)'}.` : failure.message;
    return { ok: false, origin, models, modelsNote, modelAnswers: false, answeredAs: null, failure: { kind: failure.kind, message }, ms: performance.now() - started };
  }
}
