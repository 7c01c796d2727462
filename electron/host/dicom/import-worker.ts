// Worker thread entry: runs one import (scan + header reading + grouping) so the
// host's main thread never blocks on disk. Cancellation arrives through a shared
// flag, read between files, because a synchronous loop never sees posted messages.
import { parentPort, workerData } from 'node:worker_threads';
import { runImport } from './import-run.ts';
import type { WorkerInput, WorkerMessage } from './import-protocol.ts';

const input = workerData as WorkerInput;
const cancelFlag = new Int32Array(input.cancelFlag);
const post = (message: WorkerMessage) => parentPort!.postMessage(message);

try {
  const outcome = runImport(input.paths, {
    shouldStop: () => Atomics.load(cancelFlag, 0) !== 0,
    onProgress: (update) => post({ type: 'progress', update }),
    ...(input.initialReadBytes !== undefined ? { initialReadBytes: input.initialReadBytes } : {}),
  });
  post({ type: 'result', outcome });
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
