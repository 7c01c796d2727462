// A worker_threads Worker as WorkerRpc sees it (electron/common/worker-rpc.ts). Node reports a
// crash twice ('error', then 'exit'): the port tells the first, once, and nothing after its
// own terminate.
import { Worker, type Transferable, type WorkerOptions } from 'node:worker_threads';
import type { WorkerEnd, WorkerPort } from '../common/worker-rpc.ts';

export interface NodeWorkerPortOptions extends WorkerOptions {
  /**
   * Keep the process alive only while a request is out (long-lived workers of the CLI and
   * the host: an idle one must not hold the process open). Otherwise the worker is ref'd
   * for its whole life, as worker_threads does by default.
   */
  holdOnlyWhileBusy?: boolean;
}

export function startNodeWorker(url: URL, options: NodeWorkerPortOptions = {}): WorkerPort<Transferable> {
  const { holdOnlyWhileBusy = false, ...workerOptions } = options;
  const worker = new Worker(url, workerOptions);
  if (holdOnlyWhileBusy) worker.unref();
  let ended = false;
  let endListener: ((end: WorkerEnd) => void) | null = null;
  const end = (how: WorkerEnd) => {
    if (ended) return;
    ended = true;
    endListener?.(how);
  };
  worker.on('error', (error) => end({ kind: 'crashed', error }));
  worker.on('exit', (code) => end({ kind: 'exited', code }));
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    onMessage: (listener) => void worker.on('message', listener),
    onEnd: (listener) => {
      endListener = listener;
    },
    terminate: async () => {
      ended = true;
      await worker.terminate();
    },
    ...(holdOnlyWhileBusy ? { hold: (busy: boolean) => (busy ? worker.ref() : worker.unref()) } : {}),
  };
}
