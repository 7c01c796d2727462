// Every way a CRM server can fail, as one error the engine turns into a failed answer that
// keeps whatever text had already streamed in (a cut stream still shows its reasoning).
export type CrmServerFailure =
  | 'refused' // nothing listens, DNS, network down
  | 'tls' // certificate or handshake
  | 'timeout' // no first byte / no chunk for timeoutS
  | 'auth' // 401/403
  | 'unknown-model' // 404, or the server names another model
  | 'busy' // 429 / 503 (Retry-After honoured before giving up)
  | 'server' // other 4xx/5xx
  | 'stream-cut' // the connection ended before the answer was complete
  | 'malformed' // not JSON / not a chat completion
  | 'cancelled'
  | 'config'; // settings refused before anything was sent

export class CrmServerError extends Error {
  readonly kind: CrmServerFailure;
  /** The text received before the failure ('' when none). */
  readonly partialText: string;
  readonly status: number | null;
  readonly retryAfterS: number | null;
  constructor(kind: CrmServerFailure, message: string, extra: { partialText?: string; status?: number | null; retryAfterS?: number | null } = {}) {
    super(message);
    this.name = 'CrmServerError';
    this.kind = kind;
    this.partialText = extra.partialText ?? '';
    this.status = extra.status ?? null;
    this.retryAfterS = extra.retryAfterS ?? null;
  }
}

const TLS_CODES = /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_CERT)/;

/** The network-level cause of a fetch() rejection, as a CrmServerError naming the server. */
export function networkFailure(error: unknown, where: string, partialText = ''): CrmServerError {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  const code = cause?.code ?? (error as { code?: string } | null)?.code ?? '';
  const detail = cause?.message ?? (error as Error | null)?.message ?? String(error);
  if (TLS_CODES.test(code) || /certificate|tls|ssl/i.test(detail)) {
    return new CrmServerError('tls', `${where}: the TLS connection failed (${code || detail}). Check the server's certificate (a private CA must be trusted by this machine: NODE_EXTRA_CA_CERTS).`, { partialText });
  }
  if (code === 'ECONNREFUSED') return new CrmServerError('refused', `${where} refused the connection: is the server running, and on that port?`, { partialText });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new CrmServerError('refused', `${where}: the host name does not resolve (${code})`, { partialText });
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return new CrmServerError('timeout', `${where}: the connection timed out`, { partialText });
  if (partialText !== '' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || /terminated|other side closed/i.test(detail)) {
    return new CrmServerError('stream-cut', `${where}: the connection was cut ${partialText === '' ? 'before the reply began' : `after ${partialText.length} characters of the reply`} (${code || detail})`, { partialText });
  }
  return new CrmServerError('refused', `${where}: cannot connect (${code || detail})`, { partialText });
}

/** Retry-After as seconds (delta-seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - now) / 1000);
}
