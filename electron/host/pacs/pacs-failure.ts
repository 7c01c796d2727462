// Failures of PACS operations, classified so that people see what to fix and the
// outbox knows whether waiting can help.
import type { PacsFailure, PacsFailureCode } from '../../common/contract-pacs.ts';

export class PacsError extends Error {
  readonly failure: PacsFailure;
  constructor(failure: PacsFailure, options?: { cause?: unknown }) {
    super(failure.message, options);
    this.name = 'PacsError';
    this.failure = failure;
  }
}

/** A node name that is not in the settings. */
export class UnknownNodeError extends PacsError {
  constructor(message: string) {
    super({ code: 'config', message });
    this.name = 'UnknownNodeError';
  }
}

export function pacsFailure(code: PacsFailureCode, message: string, extra: Partial<PacsFailure> = {}): PacsFailure {
  return { ...extra, code, message };
}

/** Any error as a failure: PacsErrors keep theirs, the rest are classified by their Node error code. */
export function toPacsFailure(error: unknown, target: string): PacsFailure {
  if (error instanceof PacsError) return error.failure;
  return socketFailure(error, target);
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT)/;

/** Node socket and fetch errors (fetch wraps the socket error as `cause`). */
export function socketFailure(error: unknown, target: string): PacsFailure {
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ECONNREFUSED':
      return pacsFailure('refused', `${target} refused the connection: nothing is listening there (is the PACS running, and is the port right?).`);
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'TimeoutError':
      return pacsFailure('timeout', `${target} did not answer in time.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return pacsFailure('unreachable', `${target}: the host name does not resolve (${code}).`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return pacsFailure('unreachable', `${target} cannot be reached from this machine (${code}).`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return pacsFailure('connection-lost', `The connection to ${target} was closed in the middle of the exchange (${code}).`);
    case 'AbortError':
      return pacsFailure('cancelled', `Cancelled (${target}).`);
    default:
      if (/bad port/i.test(String((error as { cause?: { message?: unknown } })?.cause?.message ?? ''))) {
        return pacsFailure('config', `${target}: fetch refuses this port (it is on the browsers' list of blocked ports); use another port.`);
      }
      if (code && TLS_CODES.test(code)) return pacsFailure('tls', `TLS with ${target} failed: ${detail} (${code}).`);
      return pacsFailure('protocol', `${target}: ${detail}${code ? ` (${code})` : ''}.`);
  }
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  // fetch: TypeError('fetch failed', { cause: Error{ code } }); undici may nest once more.
  for (let depth = 0; depth < 4 && current; depth++) {
    if (typeof current === 'object' && current !== null) {
      const record = current as { code?: unknown; name?: unknown; cause?: unknown };
      if (typeof record.code === 'string') return record.code;
      if (record.name === 'AbortError' || record.name === 'TimeoutError') return record.name;
      // Several addresses tried (happy eyeballs): the first one's reason stands for all.
      const errors = (current as { errors?: unknown }).errors;
      current = record.cause ?? (Array.isArray(errors) ? errors[0] : undefined);
    } else break;
  }
  return undefined;
}

const REJECT_RESULT: Record<number, string> = { 1: 'permanent', 2: 'transient' };
const REJECT_SOURCE: Record<number, string> = { 1: 'service user', 2: 'service provider (ACSE)', 3: 'service provider (presentation)' };
const REJECT_REASON: Record<number, Record<number, string>> = {
  1: { 1: 'no reason given', 2: 'application context name not supported', 3: 'calling AE title not recognized', 7: 'called AE title not recognized' },
  2: { 1: 'no reason given', 2: 'protocol version not supported' },
  3: { 1: 'temporary congestion', 2: 'local limit exceeded' },
};
const REJECT_HINT: Record<string, string> = {
  'calling AE title not recognized': ' Register our AE title (calling AE) at the PACS, with this machine\'s address.',
  'called AE title not recognized': ' Check the PACS AE title (called AE) in the node settings.',
};

export function rejectionFailure(rejection: { result: number; source: number; reason: number }, target: string): PacsFailure {
  const result = REJECT_RESULT[rejection.result] ?? `result ${rejection.result}`;
  const source = REJECT_SOURCE[rejection.source] ?? `source ${rejection.source}`;
  const reason = REJECT_REASON[rejection.source]?.[rejection.reason] ?? `reason ${rejection.reason}`;
  return pacsFailure('association-rejected', `${target} rejected the association (${result}, by the ${source}): ${reason}.${REJECT_HINT[reason] ?? ''}`, {
    rejection: { result, source, reason },
  });
}

export function httpFailure(status: number, statusText: string, target: string, body: string): PacsFailure {
  const snippet = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  const hint =
    status === 401 ? ' Check the user name and password or token.' : status === 403 ? ' The account may not use this service.' : status === 404 ? ' Check the base URL (it usually ends in /dicom-web or /dicomweb).' : '';
  return pacsFailure('http-status', `${target} answered HTTP ${status}${statusText ? ` ${statusText}` : ''}.${hint}${snippet ? ` (${snippet})` : ''}`, {
    httpStatus: status,
  });
}

export function dimseStatusFailure(operation: string, status: number, comment: string | undefined, target: string): PacsFailure {
  const hex = `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
  return pacsFailure('dimse-status', `${operation} at ${target} failed with status ${hex} (${describeDimseStatus(status)})${comment ? `: ${comment}` : ''}.`, {
    dimseStatus: status,
  });
}

function describeDimseStatus(status: number): string {
  if (status === 0xfe00) return 'cancelled';
  if (status === 0x0122) return 'SOP class not supported';
  if (status === 0x0124) return 'not authorized';
  if (status === 0x0211) return 'unrecognized operation';
  if (status === 0xa801) return 'move destination unknown';
  if (status === 0xa900) return 'data set does not match SOP class';
  if ((status & 0xff00) === 0xa700) return 'out of resources';
  if ((status & 0xff00) === 0xa900) return 'data set does not match SOP class';
  if ((status & 0xf000) === 0xc000) return 'cannot understand';
  if ((status & 0xf000) === 0xb000) return 'warning';
  return 'failure';
}

/**
 * Whether waiting and trying again can help. Network trouble and busy PACSs pass;
 * a PACS that says no to the content (SOP class, data set) or to our credentials
 * needs a person, so the outbox stops and shows the reason.
 */
export function isTransient(failure: PacsFailure): boolean {
  switch (failure.code) {
    case 'refused':
    case 'timeout':
    case 'unreachable':
    case 'connection-lost':
    case 'association-aborted':
      return true;
    case 'association-rejected':
      return failure.rejection?.result === 'transient';
    case 'http-status': {
      const status = failure.httpStatus ?? 0;
      return status === 408 || status === 429 || status >= 500;
    }
    case 'dimse-status':
      return ((failure.dimseStatus ?? 0) & 0xff00) === 0xa700;
    default:
      return false;
  }
}
