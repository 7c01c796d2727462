// Starts a seg worker for one host request and talks to it. Errors thrown in the
// worker come back as the same classes (SegValidationError, SegReadError), so the
// host maps them to contract error codes the same way in both places.
import type { Transferable } from 'node:worker_threads';
import { WorkerRpc } from '../../common/worker-rpc.ts';
import { startNodeWorker } from '../node-worker-port.ts';
import { siblingWorkerUrl } from '../worker-url.ts';
import { SegReadError } from './seg-reader.ts';
import type { SegWorkerRequest, SegWorkerResponse, SegWorkerResults, SerializedError } from './seg-worker-protocol.ts';
import { SegValidationError } from './validation.ts';

type Request = SegWorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export function reviveError(error: SerializedError): Error {
  let revived: Error;
  if (error.name === 'SegValidationError') {
    revived = new SegValidationError('', error.problems ?? []);
    revived.message = error.message;
  } else if (error.name === 'SegReadError') {
    revived = new SegReadError(error.message);
  } else {
    revived = new Error(error.message);
    revived.name = error.name;
  }
  return revived;
}

type SegRpc = { request: SegWorkerRequest; reply: SegWorkerResponse; result: unknown; progress: never; transfer: Transferable };

/** One seg worker; once it has crashed or exited, every request rejects with why. */
export class SegWorker {
  readonly #rpc = new WorkerRpc<SegRpc>({
    name: 'seg worker',
    start: () => startNodeWorker(siblingWorkerUrl('seg-worker', import.meta.url)),
    read: (response) => (response.ok ? { id: response.id, kind: 'result', result: response.result } : { id: response.id, kind: 'error', error: reviveError(response.error) }),
    afterFailure: 'stay-failed',
  });

  request<Op extends Request['op']>(request: Extract<Request, { op: Op }>, transfer: ArrayBuffer[] = []): Promise<SegWorkerResults[Op]> {
    return this.#rpc.request((id) => ({ ...request, id }) as SegWorkerRequest, { transfer }) as Promise<SegWorkerResults[Op]>;
  }

  close(): Promise<void> {
    return this.#rpc.close();
  }
}

/** Runs `work` with a fresh worker and always terminates it. */
export async function withSegWorker<T>(work: (worker: SegWorker) => Promise<T>): Promise<T> {
  const worker = new SegWorker();
  try {
    return await work(worker);
  } finally {
    await worker.close();
  }
}
