// Starts a seg worker for one host request and talks to it. Errors thrown in the
// worker come back as the same classes (SegValidationError, SegReadError), so the
// host maps them to contract error codes the same way in both places.
import { Worker } from 'node:worker_threads';
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

export class SegWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #failure: Error | null = null;

  constructor() {
    this.#worker = new Worker(siblingWorkerUrl('seg-worker', import.meta.url));
    this.#worker.on('message', (response: SegWorkerResponse) => {
      const pending = this.#pending.get(response.id);
      if (!pending) return;
      this.#pending.delete(response.id);
      if (response.ok) pending.resolve(response.result);
      else pending.reject(reviveError(response.error));
    });
    const fail = (error: Error) => {
      this.#failure = error;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    this.#worker.on('error', (error) => fail(new Error(`The seg worker crashed: ${error.message}`, { cause: error })));
    this.#worker.on('exit', (code) => fail(new Error(`The seg worker exited (code ${code}) before it answered.`)));
  }

  request<Op extends Request['op']>(request: Extract<Request, { op: Op }>, transfer: ArrayBuffer[] = []): Promise<SegWorkerResults[Op]> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ ...request, id }, transfer);
    });
  }

  async close(): Promise<void> {
    this.#worker.removeAllListeners('exit');
    await this.#worker.terminate();
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
