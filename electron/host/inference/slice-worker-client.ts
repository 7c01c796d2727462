// The host's way to a decoded slice: one slice worker (slice-worker.ts), started on first
// use and kept, so codecs load once. It does not keep the process alive while idle (the
// CLI exits when its work is done). A crashed worker fails what it had and is replaced by
// the next request. SlicePixelErrors come back as SlicePixelErrors.
import type { Transferable } from 'node:worker_threads';
import { WorkerRpc } from '../../common/worker-rpc.ts';
import { startNodeWorker } from '../node-worker-port.ts';
import { siblingWorkerUrl } from '../worker-url.ts';
import { SlicePixelError, type SlicePixelProblem, type SlicePixels } from './slice-pixels.ts';

export interface SliceWorkerRequest {
  id: number;
  path: string;
  frame: number;
}

export type SliceWorkerReply =
  | { id: number; ok: true; slice: SlicePixels }
  | { id: number; ok: false; problem: SlicePixelProblem | null; file: string; message: string };

const rpc = new WorkerRpc<{ request: SliceWorkerRequest; reply: SliceWorkerReply; result: SlicePixels; progress: never; transfer: Transferable }>({
  name: 'slice worker',
  start: () => startNodeWorker(siblingWorkerUrl('slice-worker', import.meta.url), { holdOnlyWhileBusy: true }),
  read: (reply) => (reply.ok ? { id: reply.id, kind: 'result', result: reply.slice } : { id: reply.id, kind: 'error', error: replyError(reply) }),
  afterFailure: 'restart',
});

function replyError(reply: Extract<SliceWorkerReply, { ok: false }>): Error {
  if (!reply.problem) return new Error(`the slice worker failed on ${reply.file}: ${reply.message}`);
  const error = new SlicePixelError(reply.problem, reply.file, '');
  error.message = reply.message;
  return error;
}

/** Frame `frame` (0-based) of the DICOM file at `path`, decoded in the slice worker. */
export function loadSliceInWorker(path: string, frame = 0): Promise<SlicePixels> {
  return rpc.request((id) => ({ id, path, frame }));
}
