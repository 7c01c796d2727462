// A page's Worker as WorkerRpc sees it (electron/common/worker-rpc.ts). A page's worker
// reports an uncaught error or a failed start as an 'error' event and may keep running:
// WorkerRpc terminates it then, and the port tells the error once.
import type { WorkerPort } from '../../electron/common/worker-rpc.ts';

export function domWorkerPort(worker: Worker): WorkerPort<Transferable> {
  let ended = false;
  return {
    post: (message, transfer) => worker.postMessage(message, [...transfer]),
    onMessage: (listener) => {
      worker.onmessage = (event: MessageEvent) => listener(event.data);
    },
    onEnd: (listener) => {
      worker.onerror = (event) => {
        // Handled here: the page's console would otherwise report it as uncaught.
        event.preventDefault();
        if (ended) return;
        ended = true;
        listener({ kind: 'crashed', error: new Error(event.message || 'it could not start') });
      };
    },
    terminate: () => {
      ended = true;
      worker.terminate();
    },
  };
}
