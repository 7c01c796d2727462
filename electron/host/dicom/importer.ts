// importDicom: runs an import in a worker thread and resolves with its outcome.
// Cancelling (AbortSignal) never rejects: it resolves with cancelled: true and the files
// read before the worker stopped. The worker stops between files; if it does not answer
// within CANCEL_GRACE_MS (one enormous file) it is terminated and the outcome is empty.
import { resolve } from 'node:path';
import type { Transferable } from 'node:worker_threads';
import { WorkerRpc, type ReplyMeaning } from '../../common/worker-rpc.ts';
import { startNodeWorker } from '../node-worker-port.ts';
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
  const input = (id: number): WorkerInput => ({
    id,
    paths: options.paths.map((p) => resolve(p)),
    cancelFlag,
    ...(options.initialReadBytes !== undefined ? { initialReadBytes: options.initialReadBytes } : {}),
    ...(options.dbPath !== undefined ? { dbPath: options.dbPath } : {}),
    ...(options.onlyChanged ? { onlyChanged: true } : {}),
    ...(options.check ? { check: true } : {}),
  });
  const rpc = new WorkerRpc<ImportRpc>({
    name: 'DICOM import worker',
    start: () => startNodeWorker(siblingWorkerUrl('import-worker', import.meta.url)),
    read: readWorkerMessage,
    afterFailure: 'stay-failed',
  });

  const abandoned = new ImportAbandoned();
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    Atomics.store(new Int32Array(cancelFlag), 0, 1);
    graceTimer = setTimeout(() => rpc.stop(abandoned), CANCEL_GRACE_MS);
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  return rpc
    .request(input, { onProgress: (update) => onProgress?.(update) })
    .then(
      (outcome): ImportOutcome => ({ ...outcome, elapsedMs: elapsed() }),
      (error: Error) => {
        if (error === abandoned) return emptyOutcome(true, elapsed());
        throw error;
      },
    )
    .finally(() => {
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
      void rpc.close();
    });
}

type ImportRpc = { request: WorkerInput; reply: WorkerMessage; result: Omit<ImportOutcome, 'elapsedMs'>; progress: ImportProgressUpdate; transfer: Transferable };

/** The worker did not stop within CANCEL_GRACE_MS of a cancel and was terminated. */
class ImportAbandoned extends Error {}

function readWorkerMessage(message: WorkerMessage): ReplyMeaning<ImportRpc> {
  const { id } = message;
  switch (message.type) {
    case 'progress':
      return { id, kind: 'progress', progress: message.update };
    case 'result':
      return { id, kind: 'result', result: message.outcome };
    case 'database-corrupt':
      return { id, kind: 'error', error: new DatabaseCorruptError(message.message) };
    case 'failed':
      return { id, kind: 'error', error: new Error(`The DICOM import failed: ${message.message}`) };
  }
}

function emptyOutcome(cancelled: boolean, elapsedMs: number): ImportOutcome {
  return { files: [], records: [], patients: [], series: [], problems: [], cancelled, elapsedMs };
}
