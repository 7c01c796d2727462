// What the app needs to reach a CRM on a GPU server (vLLM, SGLang, `transformers serve`):
// an OpenAI-compatible base URL, the served model id, an optional API key, timeouts and how
// many requests may be in flight. Slices are patient data: plain HTTP to anything but this
// machine is refused unless the user confirmed it (insecureConfirmed).
import { z } from 'zod';

export const DEFAULT_TIMEOUT_S = 120;
export const DEFAULT_MAX_IN_FLIGHT = 4;

export const CrmServerConfig = z.object({
  /** Shown in the status bar, logs and provenance. */
  name: z.string().trim().min(1).max(100),
  /** Base URL of the OpenAI API, e.g. https://gpu1.example.org:8000/v1 */
  baseUrl: z.string().url(),
  /** The model id the server serves MedReasoner under (vllm serve … --served-model-name). */
  model: z.string().trim().min(1),
  /** Sent as "Authorization: Bearer …", only to baseUrl's origin. Never leaves the host otherwise. */
  apiKey: z.string().min(1).optional(),
  /** Longest wait for the first byte and between two streamed chunks. */
  timeoutS: z.number().positive().max(3600).default(DEFAULT_TIMEOUT_S),
  maxInFlight: z.number().int().min(1).max(256).default(DEFAULT_MAX_IN_FLIGHT),
  /** The user confirmed sending slices over plain HTTP to a host that is not this machine. */
  insecureConfirmed: z.boolean().default(false),
});
export type CrmServerConfig = z.infer<typeof CrmServerConfig>;
export type CrmServerConfigInput = z.input<typeof CrmServerConfig>;

export class CrmServerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CrmServerConfigError';
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** The base URL without a trailing slash; only http and https; no credentials in the URL. */
export function normaliseBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new CrmServerConfigError(`"${text}" is not a URL (e.g. https://gpu1.example.org:8000/v1)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CrmServerConfigError(`${url.protocol} is not supported: the server URL must be http: or https:`);
  if (url.username || url.password) throw new CrmServerConfigError('put the API key in the API key field, not in the URL');
  if (url.search || url.hash) throw new CrmServerConfigError('the server URL must not carry a query or fragment');
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** Why the config may not be used as is (plain HTTP off this machine without confirmation), or null. */
export function insecureProblem(config: Pick<CrmServerConfig, 'baseUrl' | 'insecureConfirmed'>): string | null {
  const url = normaliseBaseUrl(config.baseUrl);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !config.insecureConfirmed) {
    return `${url.origin} is plain HTTP to another machine: slices (patient data) and the API key would cross the network unencrypted. Use https://, or confirm plain HTTP explicitly (settings: "send over plain HTTP"; CLI: --allow-insecure-http).`;
  }
  return null;
}

export function parseServerConfig(input: CrmServerConfigInput): CrmServerConfig {
  const parsed = CrmServerConfig.safeParse(input);
  if (!parsed.success) throw new CrmServerConfigError(`invalid CRM server settings: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`).join('; ')}`);
  const url = normaliseBaseUrl(parsed.data.baseUrl);
  const config = { ...parsed.data, baseUrl: url.href.replace(/\/$/, '') };
  const problem = insecureProblem(config);
  if (problem) throw new CrmServerConfigError(problem);
  return config;
}

export function serverOrigin(config: Pick<CrmServerConfig, 'baseUrl'>): string {
  return new URL(config.baseUrl).origin;
}
