// Worker thread entry: runs one import (scan + header reading + grouping) so the
// host's main thread never blocks on disk. Cancellation arrives through a shared
// flag, read between files, because a synchronous loop never sees posted messages.
import { parentPort } from 'node:worker_threads';
import { runImport } from './import-run.ts';
import { runDbImport } from '../db/db-import.ts';
import { DatabaseCorruptError, isCorruption } from '../db/study-db.ts';
import type { WorkerInput, WorkerMessage } from './import-protocol.ts';
import type { ImportProgressUpdate } from './import-types.ts';

if (!parentPort) throw new Error('import-worker.ts runs as a worker thread');
const port = parentPort;

port.once('message', (input: WorkerInput) => {
  const cancelFlag = new Int32Array(input.cancelFlag);
  const post = (message: WorkerMessage) => port.postMessage(message);
  const { id } = input;
  try {
    const options = {
      shouldStop: () => Atomics.load(cancelFlag, 0) !== 0,
      onProgress: (update: ImportProgressUpdate) => post({ id, type: 'progress', update }),
      ...(input.initialReadBytes !== undefined ? { initialReadBytes: input.initialReadBytes } : {}),
    };
    const outcome = input.dbPath ? runDbImport(input.dbPath, input.paths, { ...options, onlyChanged: input.onlyChanged ?? false, check: input.check ?? false }) : runImport(input.paths, options);
    post({ id, type: 'result', outcome });
  } catch (error) {
    if (input.dbPath && (error instanceof DatabaseCorruptError || isCorruption(error))) post({ id, type: 'database-corrupt', message: (error as Error).message });
    else post({ id, type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
