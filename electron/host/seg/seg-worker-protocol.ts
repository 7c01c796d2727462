// Messages between the host and the seg worker (plain, structured-clone-able data).
import type { ExportJobInput, ExportJobOutput, ImportJobOutput, SegInspection } from './seg-jobs.ts';
import type { SourceSeriesInit } from './source-series.ts';

export type SegWorkerRequest =
  | { id: number; op: 'export'; input: ExportJobInput }
  /** Reads and parses a SEG; the worker keeps it for a following 'import'. */
  | { id: number; op: 'inspect'; path: string }
  /** Maps the SEG of the last 'inspect' onto this source. */
  | { id: number; op: 'import'; source: SourceSeriesInit; encode: boolean };

export interface SegWorkerResults {
  export: ExportJobOutput;
  inspect: SegInspection;
  import: ImportJobOutput;
}

export interface SerializedError {
  name: string;
  message: string;
  problems?: readonly string[];
}

export type SegWorkerResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SerializedError };
