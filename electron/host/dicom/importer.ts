// importDicom: runs an import in a worker thread and resolves with its outcome.
// Cancelling (AbortSignal) never rejects: it resolves with cancelled: true and the files
// read before the worker stopped. The worker stops between files; if it does not answer
// within CANCEL_GRACE_MS (one enormous file) it is terminated and the outcome is empty.
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { siblingWorkerUrl } from '../worker-url.ts';
import { DatabaseCorruptError } from '../db/study-db.ts';
import type { WorkerInput, WorkerMessage } from './import-protocol.ts';
import type { ImportOutcome, ImportProgressUpdate } from './import-types.ts';

export const CANCEL_GRACE_MS = 2000;

export interface ImportOptions {
  paths: readonly string[];
  signal?: AbortSignal;
  /**
   * Called at most ~10 times a second per phase ('scan', 'parse', 'group'). Phase 'done' is
   * left to the caller, to send once it has merged the outcome into its index: a renderer
   * that reacts to 'done' by asking for the studies must see the new series.
   */
  onProgress?: (update: ImportProgressUpdate) => void;
  /** Bytes read first from each file (tuning and benchmarks). */
  initialReadBytes?: number;
  /** Write into this study database (db/study-db.ts); unchanged files are not read again. */
  dbPath?: string;
  /** With dbPath: walk only the paths whose recorded folders changed (the start-up re-scan). */
  onlyChanged?: boolean;
  /** With dbPath: run the database's quick check in the worker first; a damaged database rejects with DatabaseCorruptError. */
  check?: boolean;
}

export function importDicom(options: ImportOptions): Promise<ImportOutcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const { signal, onProgress } = options;
  if (signal?.aborted) return Promise.resolve(emptyOutcome(true, elapsed()));

  const cancelFlag = new SharedArrayBuffer(4);
  const input: WorkerInput = {
    paths: options.paths.map((p) => resolve(p)),
    cancelFlag,
    ...(options.initialReadBytes !== undefined ? { initialReadBytes: options.initialReadBytes } : {}),
    ...(options.dbPath !== undefined ? { dbPath: options.dbPath } : {}),
    ...(options.onlyChanged ? { onlyChanged: true } : {}),
    ...(options.check ? { check: true } : {}),
  };
  const worker = new Worker(siblingWorkerUrl('import-worker', import.meta.url), { workerData: input });

  return new Promise<ImportOutcome>((resolvePromise, reject) => {
    let settled = false;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      action();
    };
    const onAbort = () => {
      Atomics.store(new Int32Array(cancelFlag), 0, 1);
      graceTimer = setTimeout(() => finish(() => resolvePromise(emptyOutcome(true, elapsed()))), CANCEL_GRACE_MS);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (message: WorkerMessage) => {
      if (settled) return;
      if (message.type === 'progress') {
        onProgress?.(message.update);
      } else if (message.type === 'result') {
        const outcome: ImportOutcome = { ...message.outcome, elapsedMs: elapsed() };
        finish(() => resolvePromise(outcome));
      } else if (message.type === 'database-corrupt') {
        finish(() => reject(new DatabaseCorruptError(message.message)));
      } else {
        finish(() => reject(new Error(`The DICOM import failed: ${message.message}`)));
      }
    });
    worker.on('error', (error) => finish(() => reject(new Error(`The DICOM import worker crashed: ${error.message}`, { cause: error }))));
    worker.on('exit', (code) => {
      finish(() => reject(new Error(`The DICOM import worker exited (code ${code}) without a result.`)));
    });
  });
}

function emptyOutcome(cancelled: boolean, elapsedMs: number): ImportOutcome {
  return { files: [], records: [], patients: [], series: [], problems: [], cancelled, elapsedMs };
}
