// Messages between the importer (main thread) and the import worker.
import type { ImportOutcome, ImportProgressUpdate } from './import-types.ts';

/** The one request an import worker gets; a worker runs one import and is terminated after it. */
export interface WorkerInput {
  id: number;
  paths: string[];
  /** Int32[1]: the importer stores 1 to ask the worker to stop after the current file. */
  cancelFlag: SharedArrayBuffer;
  initialReadBytes?: number;
  /** The study database to write into; without it the import is in memory only. */
  dbPath?: string;
  onlyChanged?: boolean;
  /** Run the database's quick check first. */
  check?: boolean;
}

/** Each carries the id of the request it answers. */
export type WorkerMessage = { id: number } & (
  | { type: 'progress'; update: ImportProgressUpdate }
  | { type: 'result'; outcome: Omit<ImportOutcome, 'elapsedMs'> }
  | { type: 'failed'; message: string }
  /** The study database is damaged (quick check, or SQLite said so mid-import). */
  | { type: 'database-corrupt'; message: string }
);
