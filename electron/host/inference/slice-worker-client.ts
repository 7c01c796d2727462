// The host's way to a decoded slice: one slice worker (slice-worker.ts), started on first
// use and kept, so codecs load once. It does not keep the process alive while idle (the
// CLI exits when its work is done). A crashed worker fails what it had and is replaced by
// the next request. SlicePixelErrors come back as SlicePixelErrors.
import { Worker } from 'node:worker_threads';
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

interface Pending {
  resolve: (slice: SlicePixels) => void;
  reject: (error: Error) => void;
}

let worker: Worker | null = null;
const pending = new Map<number, Pending>();
let nextId = 1;

function startWorker(): Worker {
  const started = new Worker(siblingWorkerUrl('slice-worker', import.meta.url));
  started.unref();
  started.on('message', (reply: SliceWorkerReply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (pending.size === 0) started.unref();
    if (reply.ok) waiting.resolve(reply.slice);
    else if (reply.problem) {
      const error = new SlicePixelError(reply.problem, reply.file, '');
      error.message = reply.message;
      waiting.reject(error);
    } else waiting.reject(new Error(`the slice worker failed on ${reply.file}: ${reply.message}`));
  });
  const fail = (error: Error) => {
    if (worker !== started) return;
    worker = null;
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  started.on('error', (error) => fail(new Error(`the slice worker crashed: ${error.message}`, { cause: error })));
  started.on('exit', (code) => fail(new Error(`the slice worker exited (code ${code})`)));
  return started;
}

/** Frame `frame` (0-based) of the DICOM file at `path`, decoded in the slice worker. */
export function loadSliceInWorker(path: string, frame = 0): Promise<SlicePixels> {
  worker ??= startWorker();
  const target = worker;
  const id = nextId++;
  return new Promise<SlicePixels>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    // Held while a slice is on its way, so the process waits for it.
    target.ref();
    target.postMessage({ id, path, frame } satisfies SliceWorkerRequest);
  });
}
