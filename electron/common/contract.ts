// The one contract between the renderer and the host. Every call and every event
// is named here with its schema; the host validates params at its boundary
// (electron/host/dispatch.ts) whether the call came over Electron IPC or over
// the browser-mode HTTP server. No Node imports: the renderer bundles this file.
import { z } from 'zod';
import { ImportResult, PatientSummary, SeriesDetail } from './dicom-model.ts';
import { pacsCalls, pacsEvents } from './contract-pacs.ts';
import { inferenceCalls, inferenceEvents } from './contract-inference.ts';
import { segCalls, segEvents } from './contract-seg.ts';
import { dbCalls, dbEvents } from './contract-db.ts';

const JobId = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'job ids are letters, digits and _.:-');
const AbsolutePath = z.string().min(1).max(4096);

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  /** Which shell the host runs in; the renderer adapts (native dialogs only in Electron). */
  shell: z.enum(['electron', 'browser', 'cli', 'test']),
  platform: z.string(),
  nodeVersion: z.string(),
  /** Folder of the embedded sample series, once written. */
  samplePath: z.string().nullable(),
  canChoosePaths: z.boolean(),
});
export type AppInfo = z.infer<typeof AppInfo>;

/** The app's and the DICOM index's calls: method name → params and result schemas. */
const coreCalls = {
  'app.info': { params: z.object({}).strict(), result: AppInfo },
  /** Electron only: the native open dialog; chosen paths become readable for import. */
  'app.choosePaths': {
    params: z.object({ kind: z.enum(['folder', 'files']) }).strict(),
    result: z.object({ paths: z.array(z.string()) }),
  },
  /** Index files, folders or DICOMDIRs in a worker; progress arrives as dicom.importProgress. */
  'dicom.import': {
    params: z.object({ jobId: JobId, paths: z.array(AbsolutePath).min(1).max(1000) }).strict(),
    result: ImportResult,
  },
  'dicom.cancelImport': {
    params: z.object({ jobId: JobId }).strict(),
    result: z.object({ cancelled: z.boolean() }),
  },
  'dicom.studies': {
    params: z.object({}).strict(),
    result: z.object({ patients: z.array(PatientSummary) }),
  },
  'dicom.series': {
    params: z.object({ seriesKey: z.string().min(1).max(256) }).strict(),
    result: SeriesDetail,
  },
  /** Writes the embedded sample on first use, then imports it. */
  'sample.open': {
    params: z.object({ jobId: JobId }).strict(),
    result: ImportResult,
  },
} as const;

/** Every call of the contract: the core's, then each service's own table. */
export const calls = { ...coreCalls, ...dbCalls, ...inferenceCalls, ...segCalls, ...pacsCalls } as const;

export type CallName = keyof typeof calls;
export type CallParams<M extends CallName> = z.input<(typeof calls)[M]['params']>;
export type CallResult<M extends CallName> = z.infer<(typeof calls)[M]['result']>;

export const ImportProgress = z.object({
  jobId: JobId,
  phase: z.enum(['scan', 'parse', 'group', 'done']),
  /** Files parsed so far, and files found so far (grows while the scan runs). */
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  problems: z.number().int().nonnegative(),
});
export type ImportProgress = z.infer<typeof ImportProgress>;

/** Events: host → renderer. */
export const events = {
  'dicom.importProgress': ImportProgress,
  'dicom.studiesChanged': z.object({ seriesKeys: z.array(z.string()) }),
  ...dbEvents,
  ...inferenceEvents,
  ...segEvents,
  ...pacsEvents,
} as const;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;
export type HostEvent = { [E in EventName]: { event: E; payload: EventPayload<E> } }[EventName];

export const ErrorCode = z.enum([
  'unknown-method',
  'invalid-params',
  'not-found',
  'cancelled',
  'unsupported',
  'forbidden-path',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** What crosses the boundary when a call fails: a code to branch on, a sentence for people. */
export const HostErrorShape = z.object({
  code: ErrorCode,
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type HostErrorShape = z.infer<typeof HostErrorShape>;

export type CallResponse<M extends CallName> = { ok: true; result: CallResult<M> } | { ok: false; error: HostErrorShape };

/** The client side of the contract, implemented by the Electron preload bridge and by the HTTP client. */
export interface HostApi {
  call<M extends CallName>(method: M, params: CallParams<M>): Promise<CallResult<M>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** URL the dicom-image-loader fetches a file's bytes from (custom protocol or HTTP). */
  fileUrl(fileKey: string): string;
  /** URL of many indexed files in one response (framing in file-batch-format.ts). */
  fileBatchUrl(fileKeys: readonly string[]): string;
}

/** Error thrown on the client when the host answered { ok: false }. */
export class HostCallError extends Error {
  readonly code: ErrorCode;
  readonly issues: HostErrorShape['issues'];
  constructor(shape: HostErrorShape) {
    super(shape.message);
    this.name = 'HostCallError';
    this.code = shape.code;
    this.issues = shape.issues;
  }
}

export function isCallName(name: string): name is CallName {
  return Object.prototype.hasOwnProperty.call(calls, name);
}
