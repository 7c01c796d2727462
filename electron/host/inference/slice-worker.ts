// The slice worker thread: reads and decodes slices (slice-pixels.ts) for the host, so that
// JPEG 2000 or JPEG decoding, tens of milliseconds a slice and more for large frames, never
// runs on the host's main thread (Electron's main process, or the CLI's). One long-lived
// worker: the WASM codecs load once and stay loaded.
import { parentPort } from 'node:worker_threads';
import { loadSlice, SlicePixelError } from './slice-pixels.ts';
import type { SliceWorkerReply, SliceWorkerRequest } from './slice-worker-client.ts';

if (!parentPort) throw new Error('slice-worker.ts runs as a worker thread');
const port = parentPort;

port.on('message', (request: SliceWorkerRequest) => {
  void (async () => {
    try {
      const slice = await loadSlice(request.path, request.frame);
      port.postMessage({ id: request.id, ok: true, slice } satisfies SliceWorkerReply, [slice.pixels.buffer as ArrayBuffer]);
    } catch (error) {
      const reply: SliceWorkerReply =
        error instanceof SlicePixelError
          ? { id: request.id, ok: false, problem: error.problem, file: error.file, message: error.message }
          : { id: request.id, ok: false, problem: null, file: request.path, message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
      port.postMessage(reply);
    }
  })();
});
