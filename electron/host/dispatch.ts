// The host boundary: every call from a renderer, whatever carried it (Electron IPC,
// the browser-mode HTTP server, a test), passes through here. Unknown methods and
// params that fail their schema never reach a service.
import { z } from 'zod';
import {
  calls,
  isCallName,
  type CallName,
  type CallResult,
  type ErrorCode,
  type HostErrorShape,
} from '../common/contract.ts';

export type CallHandlers = {
  [M in CallName]: (params: z.output<(typeof calls)[M]['params']>) => Promise<CallResult<M>>;
};

/** A failure a service means to report: it crosses the boundary with its code and message. */
export class HostError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'HostError';
    this.code = code;
  }
}

export type DispatchResponse = { ok: true; result: unknown } | { ok: false; error: HostErrorShape };

export async function dispatch(
  handlers: CallHandlers,
  method: string,
  rawParams: unknown,
  log: (message: string) => void = () => {},
): Promise<DispatchResponse> {
  if (!isCallName(method)) {
    return { ok: false, error: { code: 'unknown-method', message: `No host call named "${method}".` } };
  }
  const parsed = calls[method].params.safeParse(rawParams ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      error: {
        code: 'invalid-params',
        message: `Invalid parameters for ${method}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`,
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    };
  }
  try {
    // The handler table is keyed by method, so this call is well-typed per method;
    // TypeScript cannot correlate the union here, hence the widening.
    const handler = handlers[method] as (params: unknown) => Promise<unknown>;
    return { ok: true, result: await handler(parsed.data) };
  } catch (error) {
    if (error instanceof HostError) return { ok: false, error: { code: error.code, message: error.message } };
    log(`host call ${method} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return {
      ok: false,
      error: { code: 'internal', message: `${method} failed: ${error instanceof Error ? error.message : String(error)}` },
    };
  }
}
